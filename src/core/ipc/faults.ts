import { DecodeError, formatBytes } from '../errors.js';
import { FlatbufferBoundsError } from './flatbuffer-view.js';
import { HeaderFault } from './metadata/checks.js';
import { type MessageHeaderInfo, readMessageHeader } from './metadata/message.js';

/** A `TRUNCATED` error: the source ended `missing` bytes short at `byteOffset`. */
export function truncated(url: string, byteOffset: number, missing: number): DecodeError {
  return new DecodeError(
    'TRUNCATED',
    `${url} ends early: ${formatBytes(missing)} more expected at byte offset ${byteOffset}`,
    { url, byteOffset, expected: missing, actual: 0 },
  );
}

/** A `CORRUPT` error at `byteOffset`, saying `what` is wrong. */
export function corrupt(url: string, byteOffset: number, what: string): DecodeError {
  return new DecodeError('CORRUPT', `${url} is corrupt at byte offset ${byteOffset}: ${what}`, {
    url,
    byteOffset,
  });
}

/**
 * Reads a message's metadata (see `readMessageHeader`), turning its faults into `CORRUPT` errors placed
 * in the source: `metadataOffset` is where the metadata flatbuffer starts.
 */
export function readHeaderAt(metadata: Uint8Array, metadataOffset: number, url: string): MessageHeaderInfo {
  try {
    return readMessageHeader(metadata);
  } catch (error) {
    if (error instanceof FlatbufferBoundsError) {
      // An offset may point outside the metadata: the fault is then reported at its start.
      const inside = error.position >= 0 && error.position < metadata.byteLength;
      throw corrupt(
        url,
        metadataOffset + (inside ? error.position : 0),
        `invalid message metadata flatbuffer (${error.message})`,
      );
    }
    if (error instanceof HeaderFault) throw corrupt(url, metadataOffset, error.message);
    throw error;
  }
}
