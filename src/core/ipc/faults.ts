import {
  DecodeError,
  type ErrorDetails,
  formatBytes,
  NetworkError,
  UnsupportedTypeError,
} from '../errors.js';
import type { BodyFault } from './compression/compressed-body.js';
import { FlatbufferBoundsError } from './flatbuffer-view.js';
import { HeaderFault, UnsupportedFault } from './metadata/checks.js';
import { type MessageHeaderInfo, readMessageHeader } from './metadata/message.js';

/** A `TRUNCATED` error: the source ended `missing` bytes short at `byteOffset`. */
export function truncated(url: string, byteOffset: number, missing: number): DecodeError {
  return new DecodeError(
    'TRUNCATED',
    `${url} ends early: ${formatBytes(missing)} more expected at byte offset ${byteOffset}`,
    { url, byteOffset, expected: missing, actual: 0 },
  );
}

/** A `NETWORK` error: reading the source at `byteOffset` failed with `cause`. */
export function unreadable(url: string, byteOffset: number, cause: unknown): NetworkError {
  const reason = `${url} could not be read at byte ${byteOffset}: ${String(cause)}`;
  return new NetworkError(reason, { url, byteOffset }, { cause });
}

/** A `CORRUPT` error at `byteOffset`, saying `what` is wrong; `more` adds to its details. */
export function corrupt(url: string, byteOffset: number, what: string, more: ErrorDetails = {}): DecodeError {
  return new DecodeError('CORRUPT', `${url} is corrupt at byte offset ${byteOffset}: ${what}`, {
    url,
    byteOffset,
    ...more,
  });
}

/**
 * A `CORRUPT` error for a compressed buffer that lies about its size, naming its batch: `bodyStart` is
 * where the message's body starts in the source, `recordBatch` the index of the record batch that the
 * message is (or, for a dictionary batch, comes before).
 */
export function bodyCorrupt(
  url: string,
  fault: BodyFault,
  bodyStart: number,
  dictionaryId: number | null,
  recordBatch: number,
): DecodeError {
  const what =
    dictionaryId === null
      ? `record batch ${recordBatch}`
      : `dictionary batch (id ${dictionaryId}) before record batch ${recordBatch}`;
  const { column, expected, actual } = fault;
  return corrupt(url, bodyStart + fault.bodyOffset, `${what}, ${fault.message}`, {
    batch: recordBatch,
    ...(column === undefined ? {} : { column }),
    ...(expected === undefined ? {} : { expected, actual }),
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
    throw headerError(error, metadata, metadataOffset, url);
  }
}

/**
 * Like `readHeaderAt`, but `null` for metadata that does not parse: bytes after a bare length may be no
 * message at all (noise, or a file's footer). Metadata that parses but is not supported still throws.
 */
export function tryReadHeaderAt(
  metadata: Uint8Array,
  metadataOffset: number,
  url: string,
): MessageHeaderInfo | null {
  try {
    return readMessageHeader(metadata);
  } catch (error) {
    if (error instanceof FlatbufferBoundsError || error instanceof HeaderFault) return null;
    throw headerError(error, metadata, metadataOffset, url);
  }
}

/** The library error for a fault met while reading a message's metadata. */
function headerError(error: unknown, metadata: Uint8Array, metadataOffset: number, url: string): unknown {
  if (error instanceof FlatbufferBoundsError) {
    // An offset may point outside the metadata: the fault is then reported at its start.
    const inside = error.position >= 0 && error.position < metadata.byteLength;
    return corrupt(
      url,
      metadataOffset + (inside ? error.position : 0),
      `invalid message metadata flatbuffer (${error.message})`,
    );
  }
  if (error instanceof HeaderFault) return corrupt(url, metadataOffset, error.message);
  if (error instanceof UnsupportedFault) {
    return new UnsupportedTypeError(`${url}: ${error.message}`, { url, byteOffset: metadataOffset });
  }
  return error;
}
