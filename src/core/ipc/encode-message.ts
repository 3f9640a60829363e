import { Message } from 'apache-arrow';
import { FlatbufferView } from './flatbuffer-view.js';
import { Message as MessageSlot } from './metadata/slots.js';

/** The continuation marker. */
const CONTINUATION = 0xffffffff;

/**
 * Encodes `message` with apache-arrow, keeping the source's metadata `version`: apache-arrow always
 * writes V5, and reads a V4 schema's unions by V5 rules (no validity buffer) unless told.
 */
export function encodeMessage(message: Message, version: number): Uint8Array {
  const metadata = Message.encode(message);
  const fb = new FlatbufferView(metadata);
  // apache-arrow writes the version even when it is the default, so its slot is there to overwrite.
  const slot = fb.field(fb.root(), MessageSlot.version);
  if (slot === null) throw new Error('apache-arrow wrote a message without its version');
  new DataView(metadata.buffer, metadata.byteOffset, metadata.byteLength).setInt16(slot, version, true);
  return metadata;
}

/** `metadata` behind the continuation marker and its length, padded to 8 bytes as writers do. */
export function framedPrefix(metadata: Uint8Array): Uint8Array {
  const padded = Math.ceil((metadata.byteLength + 8) / 8) * 8;
  const out = new Uint8Array(padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, CONTINUATION, true);
  view.setInt32(4, padded - 8, true);
  out.set(metadata, 8);
  return out;
}
