/**
 * Bytes to read keys from, with a little-endian view of the same range: keys are hashed and compared
 * four bytes a step. Made once a batch (a `DataView` a row would cost more than the row).
 */
export interface KeyBytes {
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

/** `bytes` as a `KeyBytes`. */
export function keyBytes(bytes: Uint8Array): KeyBytes {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * A 32-bit hash of `source.bytes[start, end)`: FNV-1a's multiply over little-endian words, with each
 * step's high bits folded down, since a table slot is the hash's low bits and a product's low bits
 * depend only on its factors' low bits.
 */
export function hashKey(source: KeyBytes, start: number, end: number): number {
  const { bytes, view } = source;
  let hash = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    hash = Math.imul(hash ^ view.getInt32(i, true), 0x01000193);
    hash ^= hash >>> 15;
  }
  for (; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return (hash ^ (hash >>> 16)) | 0;
}

/**
 * Offsets `[first, first + count]` of text or binary rows as numbers, entry 0 being row `first`'s start:
 * a view of 32-bit offsets, a copy of 64-bit ones (large types, bigints), made numbers once so that a
 * row loop reads numbers only.
 */
export function offsetNumbers(
  offsets: Int32Array | BigInt64Array,
  first: number,
  count: number,
): Int32Array | Float64Array {
  const rows = offsets.subarray(first, first + count + 1);
  return rows instanceof Int32Array ? rows : Float64Array.from(rows, Number);
}

/** Whether bit `bit` of an Arrow bitmap is set (LSB first). */
export function bitAt(bitmap: Uint8Array, bit: number): boolean {
  return (((bitmap[bit >> 3] as number) >> (bit & 7)) & 1) === 1;
}
