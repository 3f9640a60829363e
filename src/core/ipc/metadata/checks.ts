import type { FlatbufferView } from '../flatbuffer-view.js';

/** A fault in a message's metadata; the framer adds the byte offset and turns it into a `DecodeError`. */
export class HeaderFault extends Error {}

/** Valid metadata that this library does not read; the framer turns it into `UNSUPPORTED_TYPE`. */
export class UnsupportedFault extends Error {}

/** Checks that a string (or byte vector) field, when present, lies inside the metadata. */
export function checkString(fb: FlatbufferView, position: number | null): void {
  if (position !== null) fb.vector(position, 1);
}

/** Reads a dictionary id (absent: 0); ids are map keys, so one beyond ±2^53 would alias another. */
export function readDictionaryId(fb: FlatbufferView, position: number | null): number {
  const id = position === null ? 0 : fb.i64(position);
  if (!Number.isSafeInteger(id)) throw new HeaderFault(`invalid dictionary id (${id})`);
  return id;
}
