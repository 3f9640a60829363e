import { DecodeError } from '../errors.js';
import { truncated } from './faults.js';
import { FILE_MAGIC } from './footer.js';

/** Which IPC container the bytes use. */
export type IpcFormat = 'stream' | 'file';

/** Bytes read to tell the formats apart: a file's magic padded to 8, or a stream message's prefix. */
export const PREAMBLE_BYTES = 8;

/** Bytes of a legacy (before Arrow 0.15) message prefix: the metadata length alone. */
export const LEGACY_PREFIX_BYTES = 4;

/** The marker that opens every message since Arrow 0.15. */
const CONTINUATION = 0xffffffff;

/** True when `bytes` open with the message continuation marker ff ff ff ff. */
export function startsWithContinuation(bytes: Uint8Array): boolean {
  return (
    bytes.byteLength >= 4 &&
    new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === CONTINUATION
  );
}

/**
 * True when `head` opens like a message written before Arrow 0.15, which has no continuation marker:
 * a metadata length in [1, `maxMetadataBytes`], then the metadata flatbuffer's root offset, which must
 * point at a 4-byte aligned table inside that metadata. The framer then checks that it parses.
 */
export function looksLikeLegacyMessage(head: Uint8Array, maxMetadataBytes: number): boolean {
  if (head.byteLength < PREAMBLE_BYTES) return false;
  const view = new DataView(head.buffer, head.byteOffset, PREAMBLE_BYTES);
  const length = view.getInt32(0, true);
  const root = view.getUint32(4, true);
  return length > 0 && length <= maxMetadataBytes && root >= 4 && root % 4 === 0 && root + 4 <= length;
}

/**
 * Tells a stream from a file from anything else by the first `PREAMBLE_BYTES` of the source (fewer only
 * when it ended first). A stream opens with the continuation marker, or (before Arrow 0.15) with a
 * plausible metadata length. Throws `NOT_ARROW` for other bytes, and `TRUNCATED` for a preamble cut short.
 */
export function sniffFormat(head: Uint8Array, url: string, maxMetadataBytes: number): IpcFormat {
  if (head.byteLength === 0) {
    throw new DecodeError('NOT_ARROW', `${url} is empty: expected Arrow IPC bytes`, {
      url,
      byteOffset: 0,
      actual: 0,
    });
  }
  if (head.byteLength < PREAMBLE_BYTES && isPrefixOfPreamble(head)) {
    throw truncated(url, head.byteLength, PREAMBLE_BYTES - head.byteLength);
  }
  if (FILE_MAGIC.every((b, i) => head[i] === b)) return 'file';
  if (startsWithContinuation(head) || looksLikeLegacyMessage(head, maxMetadataBytes)) return 'stream';
  throw notArrow(head, url);
}

/** True when `head` (shorter than 8 bytes) could be the start of a file magic or a stream's first message. */
export function isPrefixOfPreamble(head: Uint8Array): boolean {
  const magic = head.every((b, i) => i >= FILE_MAGIC.length || b === FILE_MAGIC[i]);
  const continuation = head.every((b, i) => i >= 4 || b === 0xff);
  return magic || continuation;
}

/** `NOT_ARROW`, showing the bytes in hex and, when they look like text (an HTML error page…), as text. */
function notArrow(head: Uint8Array, url: string): DecodeError {
  const shown = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return new DecodeError(
    'NOT_ARROW',
    `${url} is not Arrow IPC: expected a stream (starts ff ff ff ff, or before Arrow 0.15 a metadata ` +
      `length) or a file (starts "ARROW1"), ` +
      `got bytes ${shown}${looksLikeText(head) ? ` ("${asText(head)}…")` : ''}`,
    { url, byteOffset: 0 },
  );
}

function looksLikeText(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
}

function asText(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes).replace(/\s+/g, ' ');
}
