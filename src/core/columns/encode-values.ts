import type { Conversion } from './type-plan.js';

/** The values buffer of one Arrow column chunk, as apache-arrow exposes it. */
export type SourceValues =
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/**
 * Writes `count` values starting at `first` of `source` into `target` at `byteOffset` (a multiple of 4),
 * as 32-bit GPU values. Widening and f64 → f32 rounding happen in this single pass. (32-bit columns need
 * no conversion: their bytes go as they are, see `sourceBytes`.)
 */
export function encodeValues(
  conversion: Exclude<Conversion, 'copy'>,
  source: SourceValues,
  first: number,
  count: number,
  target: ArrayBuffer,
  byteOffset: number,
): void {
  const values = source.subarray(first, first + count);
  switch (conversion) {
    case 'widen':
      if (values instanceof Int8Array || values instanceof Int16Array) {
        new Int32Array(target, byteOffset, count).set(values);
      } else {
        new Uint32Array(target, byteOffset, count).set(values as Uint8Array | Uint16Array);
      }
      return;
    case 'narrow-f64':
      // TypedArray#set rounds to nearest f32, exactly as Math.fround does.
      new Float32Array(target, byteOffset, count).set(values as Float64Array);
      return;
  }
}

/** Bytes of `count` source values, when they can be handed to the GPU without conversion. */
export function sourceBytes(source: SourceValues, first: number, count: number): Uint8Array {
  const bytesPerValue = source.BYTES_PER_ELEMENT;
  return new Uint8Array(source.buffer, source.byteOffset + first * bytesPerValue, count * bytesPerValue);
}
