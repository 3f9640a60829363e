/**
 * Every queryable value maps to a 64-bit key whose unsigned order is the values' order (NaN aside), so
 * that shaders compare integers only: WGSL may assume floats are never NaN or infinite, keys never are.
 */
export type KeyDomain = 'f32' | 'f64' | 'signed' | 'unsigned';

/** How one column's values map to keys. */
export interface KeySpace {
  domain: KeyDomain;
  /** Smallest and largest value of an integer domain (`in` ignores values outside). */
  range?: readonly [bigint, bigint];
  /** `f32-relative`: the value is the stored f32 plus this (added in f64). */
  offset?: number;
}

const SIGN64 = 1n << 63n;
const MASK64 = (1n << 64n) - 1n;

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);

/** The key of an f32's bits: negatives inverted, positives with the sign bit set. */
export function f32Key(bits: number): number {
  return bits >>> 31 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

function f32OfKey(key: number): number {
  f32Bits[0] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return f32[0] as number;
}

function f64OfKey(key: bigint): number {
  f64Bits[0] = key & SIGN64 ? key & ~SIGN64 : ~key & MASK64;
  return f64[0] as number;
}

/** The value a key stands for: a bigint for 64-bit integer domains, a number otherwise. */
export function valueOfKey(space: KeySpace, key: bigint, wide: boolean): number | bigint {
  switch (space.domain) {
    case 'f32':
      return f32OfKey(Number(key & 0xffffffffn)) + (space.offset ?? 0);
    case 'f64':
      return f64OfKey(key);
    case 'signed':
      return wide ? key - SIGN64 : Number(key - SIGN64);
    default:
      return wide ? key : Number(key);
  }
}
