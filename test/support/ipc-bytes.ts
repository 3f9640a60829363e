import { Message } from 'apache-arrow';

/** One message of a stream or file: its metadata flatbuffer and its body (a copy, free to change). */
export interface RawMessage {
  metadata: Uint8Array;
  body: Uint8Array;
}

/** The messages of a stream or file in continuation-marker framing, and a file's footer flatbuffer. */
export function splitMessages(bytes: Uint8Array): { messages: RawMessage[]; footer: Uint8Array | null } {
  const file = bytes[0] === 0x41; // "ARROW1"
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: RawMessage[] = [];
  let at = file ? 8 : 0;
  while (at + 8 <= bytes.byteLength && view.getUint32(at, true) === 0xffffffff) {
    const length = view.getInt32(at + 4, true);
    at += 8;
    if (length === 0) break;
    const metadata = bytes.subarray(at, at + length);
    const bodyLength = Message.decode(metadata).bodyLength;
    messages.push({ metadata, body: bytes.slice(at + length, at + length + bodyLength) });
    at += length + bodyLength;
  }
  if (!file) return { messages, footer: null };
  const footerLength = view.getInt32(bytes.byteLength - 10, true);
  return { messages, footer: bytes.subarray(bytes.byteLength - 10 - footerLength, bytes.byteLength - 10) };
}

/** `metadata` behind the continuation marker and its length, padded to 8 bytes. */
export function framed(metadata: Uint8Array): Uint8Array {
  const padded = Math.ceil((metadata.byteLength + 8) / 8) * 8;
  const out = new Uint8Array(padded);
  new DataView(out.buffer).setUint32(0, 0xffffffff, true);
  new DataView(out.buffer).setInt32(4, padded - 8, true);
  out.set(metadata, 8);
  return out;
}

/** The end-of-stream marker. */
export const END_OF_STREAM = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

/** The parts one after the other. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * A stream or file of `messages` (metadata already final); a file gets the footer `encodeFooter` makes
 * from the blocks of its record and dictionary batches.
 */
export function assemble(
  messages: ReadonlyArray<RawMessage & { kind: 'schema' | 'record' | 'dictionary' }>,
  encodeFooter: ((records: Block[], dictionaries: Block[]) => Uint8Array) | null,
): Uint8Array {
  const out: Uint8Array[] = encodeFooter ? [Uint8Array.of(0x41, 0x52, 0x52, 0x4f, 0x57, 0x31, 0, 0)] : [];
  let position = encodeFooter ? 8 : 0;
  const blocks: Record<'schema' | 'record' | 'dictionary', Block[]> = {
    schema: [],
    record: [],
    dictionary: [],
  };
  for (const { metadata, body, kind } of messages) {
    const prefix = framed(metadata);
    blocks[kind].push({ metaDataLength: prefix.byteLength, bodyLength: body.byteLength, offset: position });
    out.push(prefix, body);
    position += prefix.byteLength + body.byteLength;
  }
  out.push(END_OF_STREAM);
  if (encodeFooter) {
    const footer = encodeFooter(blocks.record, blocks.dictionary);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setInt32(0, footer.byteLength, true);
    out.push(footer, length, Uint8Array.of(0x41, 0x52, 0x52, 0x4f, 0x57, 0x31));
  }
  return concat(out);
}

/** Where a message lies in a file, as its footer lists it. */
export interface Block {
  metaDataLength: number;
  bodyLength: number;
  offset: number;
}
