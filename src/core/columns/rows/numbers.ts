import { type DataType, Precision, Type } from 'apache-arrow';
import type { ValueArray } from '../encoders/column-encoder.js';
import type { Encoding } from '../encoding.js';
import { floatToHalf } from './half-float.js';

type ValuesConstructor = { new (length: number): ValueArray; BYTES_PER_ELEMENT: number };

/** Value ranges of the integer arrays, for values that come back from a float encoding. */
const RANGES = new Map<unknown, readonly [number, number]>([
  [Int8Array, [-(2 ** 7), 2 ** 7 - 1]],
  [Uint8Array, [0, 2 ** 8 - 1]],
  [Int16Array, [-(2 ** 15), 2 ** 15 - 1]],
  [Uint16Array, [0, 2 ** 16 - 1]],
  [Int32Array, [-(2 ** 31), 2 ** 31 - 1]],
  [Uint32Array, [0, 2 ** 32 - 1]],
]);
const BIG_RANGES = new Map<unknown, readonly [bigint, bigint]>([
  [BigInt64Array, [-(2n ** 63n), 2n ** 63n - 1n]],
  [BigUint64Array, [0n, 2n ** 64n - 1n]],
]);

/**
 * The values of `count` rows of a numeric, temporal or decimal Arrow `type` from their GPU words in
 * `encoding`, in the typed array apache-arrow keeps that type in. Exact encodings give the source
 * values bit for bit (narrow integers from their widened words, 64-bit values from their word pairs);
 * `f32`, `f32x2` and `f32-relative` give the GPU's value in the type: rounded to the nearest integer
 * and clamped to the type's range for integer types, to the nearest half for Float16. `offset` is a
 * `f32-relative` column's offset.
 */
export function numericValues(
  type: DataType,
  encoding: Encoding,
  words: Uint32Array,
  count: number,
  offset = '0',
): ValueArray {
  if (type.typeId === Type.Decimal) return encoding === 'decimal' ? words : decimalsOf(type, words, count);
  const Ctor = type.ArrayType as ValuesConstructor;
  if (isHalf(type)) return Uint16Array.from(floats(words, count), floatToHalf);
  switch (encoding) {
    case 'i32':
    case 'u32': {
      const source = encoding === 'i32' ? new Int32Array(words.buffer, words.byteOffset, count) : words;
      return copyInto(Ctor, source, count);
    }
    case 'i64':
    case 'u64':
    case 'f64':
      return reinterpret(Ctor, words, count);
    case 'f32': {
      const values = floats(words, count);
      return Ctor === Float32Array ? values : fromNumbers(Ctor, count, (i) => values[i] as number);
    }
    case 'f32x2': {
      const pairs = floats(words, count * 2);
      return fromNumbers(Ctor, count, (i) => (pairs[2 * i] as number) + (pairs[2 * i + 1] as number));
    }
    case 'f32-relative': {
      const values = floats(words, count);
      return fromNumbers(Ctor, count, (i) => values[i] as number, offset);
    }
    default:
      throw new Error(`no numeric values of ${String(type)} in the ${encoding} encoding`);
  }
}

function isHalf(type: DataType): boolean {
  return (
    type.typeId === Type.Float && (type as DataType & { precision: Precision }).precision === Precision.HALF
  );
}

function floats(words: Uint32Array, count: number): Float32Array {
  return new Float32Array(words.buffer, words.byteOffset, count);
}

/** Integers that fit `Ctor` as they are (the GPU sign- or zero-extended them): `set` narrows each. */
function copyInto(Ctor: ValuesConstructor, source: Int32Array | Uint32Array, count: number): ValueArray {
  const out = new Ctor(count) as Exclude<ValueArray, BigInt64Array | BigUint64Array>;
  out.set(source.subarray(0, count));
  return out;
}

/** The words' bytes as `Ctor`'s elements; copied when the words do not start on its alignment. */
function reinterpret(Ctor: ValuesConstructor, words: Uint32Array, count: number): ValueArray {
  const aligned = words.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? words : words.slice();
  const View = Ctor as unknown as new (
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ) => ValueArray;
  return new View(aligned.buffer, aligned.byteOffset, count);
}

/**
 * Values computed as doubles, stored in `Ctor`: floats as they are, integers rounded and clamped to the
 * type's range. `offset` (an exact decimal string) is added: as a BigInt for 64-bit integers, so that
 * the offset keeps every digit.
 */
function fromNumbers(
  Ctor: ValuesConstructor,
  count: number,
  value: (i: number) => number,
  offset = '0',
): ValueArray {
  const big = BIG_RANGES.get(Ctor);
  if (big) {
    const base = BigInt(offset);
    const out = new Ctor(count) as BigInt64Array | BigUint64Array;
    for (let i = 0; i < count; i++) out[i] = clampBig(toBigInt(value(i)) + base, big);
    return out;
  }
  const base = Number(offset);
  const out = new Ctor(count) as Exclude<ValueArray, BigInt64Array | BigUint64Array>;
  const range = RANGES.get(Ctor);
  for (let i = 0; i < count; i++) {
    const v = value(i) + base;
    out[i] = range ? Math.min(range[1], Math.max(range[0], Math.round(v))) : v;
  }
  return out;
}

/** A double as the nearest integer; infinities as far as a 64-bit integer goes, past any clamp. */
function toBigInt(value: number): bigint {
  if (Number.isNaN(value)) return 0n;
  if (!Number.isFinite(value)) return value > 0 ? 2n ** 64n : -(2n ** 64n);
  return BigInt(Math.round(value));
}

function clampBig(value: bigint, [min, max]: readonly [bigint, bigint]): bigint {
  return value < min ? min : value > max ? max : value;
}

/**
 * Decimals from `f32` words (their values with the scale applied): the unscaled integer nearest to
 * value × 10^scale, clamped to the precision, as `bitWidth / 32` two's complement words a value.
 */
function decimalsOf(type: DataType, words: Uint32Array, count: number): Uint32Array {
  const { scale, precision, bitWidth } = type as DataType & {
    scale: number;
    precision: number;
    bitWidth: number;
  };
  const values = floats(words, count);
  const stride = bitWidth / 32;
  const out = new Uint32Array(count * stride);
  const limit = 10n ** BigInt(precision) - 1n;
  for (let i = 0; i < count; i++) {
    let unscaled = clampBig(toBigInt((values[i] as number) * 10 ** scale), [-limit, limit]);
    for (let w = 0; w < stride; w++) {
      out[i * stride + w] = Number(BigInt.asUintN(32, unscaled));
      unscaled >>= 32n;
    }
  }
  return out;
}
