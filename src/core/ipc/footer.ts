import { Message } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { FlatbufferView } from './flatbuffer-view.js';
import { checkSchema, HeaderFault } from './metadata/message.js';

/** Bytes at the very end of an Arrow file: footer length (int32) and the "ARROW1" magic. */
export const FILE_TRAILER_BYTES = 10;

/** The "ARROW1" magic that opens and closes an Arrow file. */
export const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];

/** Reads the footer length from the last `FILE_TRAILER_BYTES` of a file, or `null` when the magic is missing. */
export function footerLength(trailer: Uint8Array): number | null {
  if (trailer.byteLength < FILE_TRAILER_BYTES) return null;
  const at = trailer.byteLength - FILE_TRAILER_BYTES;
  if (!FILE_MAGIC.every((b, i) => trailer[at + 4 + i] === b)) return null;
  return new DataView(trailer.buffer, trailer.byteOffset + at, 4).getInt32(0, true);
}

/**
 * Re-encodes the schema held in a file's footer as a stream-format Schema message. Files written by
 * apache-arrow JS carry their schema only there, not before the first batch.
 * `tail` is the footer followed by the trailer.
 */
export function schemaMessageFromFooter(tail: Uint8Array): Uint8Array {
  const length = footerLength(tail);
  if (length === null || length <= 0 || length + FILE_TRAILER_BYTES > tail.byteLength) {
    throw new Error('the file footer is missing or its length is inconsistent');
  }
  const start = tail.byteLength - FILE_TRAILER_BYTES - length;
  const bytes = tail.subarray(start, start + length);
  // apache-arrow trusts every length in the footer's schema: check them first.
  const fb = new FlatbufferView(bytes);
  const schema = fb.field(fb.root(), 1);
  if (schema === null) throw new HeaderFault('the file footer has no schema');
  checkSchema(fb, fb.indirect(schema));
  const footer = Footer.decode(bytes);
  const metadata = Message.encode(Message.from(footer.schema));
  const padded = Math.ceil((metadata.byteLength + 8) / 8) * 8;
  const out = new Uint8Array(padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xffffffff, true);
  view.setInt32(4, padded - 8, true);
  out.set(metadata, 8);
  return out;
}
