import { RecordBatchFileWriter, RecordBatchStreamWriter, type Table } from 'apache-arrow';
import { FlatbufferView } from '../../src/core/ipc/flatbuffer-view.js';
import { Message } from '../../src/core/ipc/metadata/slots.js';

/** A stream in the framing of Arrow before 0.15, as apache-arrow writes it (`writeLegacyIpcFormat`). */
export function legacyStream(table: Table): Uint8Array {
  return RecordBatchStreamWriter.writeAll(table, { writeLegacyIpcFormat: true }).toUint8Array(true);
}

/**
 * A file whose messages have the framing of Arrow before 0.15. apache-arrow's file writer turns the
 * option off in its constructor, so it is turned back on before anything is written.
 */
export function legacyFile(table: Table): Uint8Array {
  const writer = new RecordBatchFileWriter();
  (writer as unknown as { _writeLegacyIpcFormat: boolean })._writeLegacyIpcFormat = true;
  return writer.writeAll(table).toUint8Array(true);
}

/**
 * The same stream or file with every message prefix in legacy framing: the continuation marker goes,
 * and the metadata length grows by 4 bytes of padding, so every message keeps its size and offset (the
 * footer's blocks stay right). The end-of-stream marker becomes a bare 0.
 */
export function toLegacyFraming(bytes: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const file = bytes[0] === 0x41; // "ARROW1"
  let at = file ? 8 : 0;
  if (file) out.push(bytes.subarray(0, 8));
  while (at + 8 <= bytes.byteLength && view.getUint32(at, true) === 0xffffffff) {
    const length = view.getInt32(at + 4, true);
    if (length === 0) {
      out.push(new Uint8Array(4));
      at += 8;
      break;
    }
    const metadata = bytes.subarray(at + 8, at + 8 + length);
    const bodyLength = bodyLengthOf(metadata);
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setInt32(0, length + 4, true);
    out.push(
      prefix,
      metadata,
      new Uint8Array(4),
      bytes.subarray(at + 8 + length, at + 8 + length + bodyLength),
    );
    at += 8 + length + bodyLength;
  }
  out.push(bytes.subarray(at));
  const joined = new Uint8Array(out.reduce((n, part) => n + part.byteLength, 0));
  let offset = 0;
  for (const part of out) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

/** A message's `bodyLength`, read straight from its flatbuffer. */
function bodyLengthOf(metadata: Uint8Array): number {
  const fb = new FlatbufferView(metadata);
  const field = fb.field(fb.root(), Message.bodyLength);
  return field === null ? 0 : fb.i64(field);
}
