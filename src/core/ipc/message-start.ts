import { messageSlab } from '../source/byte-slab.js';
import { corrupt, truncated } from './faults.js';
import type { PushBackReader } from './push-back-reader.js';
import { type IpcFormat, LEGACY_PREFIX_BYTES, startsWithContinuation } from './sniff.js';

/**
 * How a source frames its messages, known from its first one: each behind the continuation marker
 * (Arrow 0.15 and later), or behind a bare metadata length (`legacy`, as earlier writers did).
 */
export type Framing = 'marker' | 'legacy';

/** The length prefix of one message. */
export interface MessageStart {
  /** Bytes the prefix took in the source: 8 with the continuation marker, 4 without. */
  prefixBytes: number;
  /** The metadata length; 0 marks the end of the messages. */
  metadataLength: number;
  /** The prefix bytes as read, to push back when a bare length turns out not to start a message. */
  bytes: Uint8Array;
}

/**
 * Reads the length prefix of the message at `byteOffset`: the continuation marker and a length, or, when
 * `framing` is legacy or not yet known, a bare length. `null` where no message starts: a stream that has
 * ended, or in a file bytes without the marker when the framing has it (the footer, pushed back).
 */
export async function readMessageStart(
  input: PushBackReader,
  byteOffset: number,
  format: IpcFormat,
  framing: Framing | null,
  url: string,
): Promise<MessageStart | null> {
  const first = await input.read(LEGACY_PREFIX_BYTES);
  if (first.byteLength === 0) {
    if (format === 'file') throw truncated(url, byteOffset, LEGACY_PREFIX_BYTES);
    return null; // a stream may end without its end-of-stream marker
  }
  if (first.byteLength < LEGACY_PREFIX_BYTES) {
    throw truncated(url, byteOffset + first.byteLength, LEGACY_PREFIX_BYTES - first.byteLength);
  }
  if (startsWithContinuation(first)) {
    const length = await input.read(4);
    if (length.byteLength < 4)
      throw truncated(url, byteOffset + 4 + length.byteLength, 4 - length.byteLength);
    const bytes = messageSlab.take(8);
    bytes.set(first);
    bytes.set(length, 4);
    return { prefixBytes: 8, metadataLength: readI32(length), bytes };
  }
  if (framing !== 'marker')
    return { prefixBytes: LEGACY_PREFIX_BYTES, metadataLength: readI32(first), bytes: first };
  if (format === 'file') {
    // Writers that omit the end-of-stream marker go straight on to the footer.
    input.pushBack(first);
    return null;
  }
  throw corrupt(url, byteOffset, `expected the message continuation marker ff ff ff ff`);
}

function readI32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}
