import { ArgumentError } from '../../errors.js';

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

/** One past the largest key: a threshold no value reaches. */
export const KEY_END = 1n << 64n;
const SIGN64 = 1n << 63n;
const MASK64 = KEY_END - 1n;
/** Keys of -Infinity and +Infinity among f32 keys; those outside are NaN. */
const F32_LOWEST = 0x007fffff;
const F32_HIGHEST = 0xff800000;

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

function f64Key(x: number): bigint {
  f64[0] = x;
  const bits = f64Bits[0] as bigint;
  return bits & SIGN64 ? ~bits & MASK64 : bits | SIGN64;
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

/** Smallest key whose value is ≥ `x` (`KEY_END` when none is). */
export function keyAtLeast(space: KeySpace, x: number | bigint): bigint {
  checkBound(x);
  if (space.domain === 'signed' || space.domain === 'unsigned') {
    if (x === -Infinity) return 0n;
    if (x === Infinity) return KEY_END;
    return clampKey(ceilInt(x) + (space.domain === 'signed' ? SIGN64 : 0n));
  }
  const v = Number(x);
  if (space.domain === 'f64') return v === 0 ? f64Key(-0) : f64Key(v);
  return BigInt(lowestF32Key(space, (value) => value >= v));
}

/** Smallest key whose value is > `x` (`KEY_END` when none is). */
export function keyAbove(space: KeySpace, x: number | bigint): bigint {
  checkBound(x);
  if (space.domain === 'signed' || space.domain === 'unsigned') {
    if (x === -Infinity) return 0n;
    if (x === Infinity) return KEY_END;
    return clampKey(-ceilInt(-x) + 1n + (space.domain === 'signed' ? SIGN64 : 0n));
  }
  const v = Number(x);
  if (space.domain === 'f64') return (v === 0 ? f64Key(0) : f64Key(v)) + 1n;
  return BigInt(lowestF32Key(space, (value) => value > v));
}

/** The keys of values equal to `x`, as the half-open interval `[from, to)` (empty when none). */
export function keysEqual(space: KeySpace, x: number | bigint): [bigint, bigint] {
  if (space.range) {
    const [lo, hi] = space.range;
    if (typeof x === 'number' && !Number.isInteger(x)) return [0n, 0n];
    if (BigInt(x) < lo || BigInt(x) > hi) return [0n, 0n];
  }
  return [keyAtLeast(space, x), keyAbove(space, x)];
}

/** Binary search over the non-NaN f32 keys for the first whose value satisfies a monotone test. */
function lowestF32Key(space: KeySpace, test: (value: number) => boolean): number {
  const offset = space.offset ?? 0;
  const holds = (key: number) => test(f32OfKey(key) + offset);
  let lo = F32_LOWEST;
  let hi = F32_HIGHEST;
  if (!holds(hi)) return Number(KEY_END);
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (holds(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function checkBound(x: number | bigint): void {
  if (typeof x === 'bigint') return;
  if (typeof x !== 'number' || Number.isNaN(x)) {
    throw new ArgumentError(`A query bound must be a number or a bigint, not ${String(x)}`, {
      option: 'bound',
    });
  }
}

function ceilInt(x: number | bigint): bigint {
  return typeof x === 'bigint' ? x : BigInt(Math.ceil(x));
}

function clampKey(key: bigint): bigint {
  if (key < 0n) return 0n;
  return key > MASK64 ? KEY_END : key;
}
