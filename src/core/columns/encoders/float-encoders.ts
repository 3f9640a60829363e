import { type Data, Type } from 'apache-arrow';
import { type ColumnExtras, FixedWidthEncoder, valuesOf } from './column-encoder.js';
import { int64At, int64Words, isInt64Values, isSigned } from './int64-words.js';

/** Integers of 8 or 16 bits, sign- or zero-extended to 32 (the typed array's `set` does it in one pass). */
export class WidenEncoder extends FixedWidthEncoder {
  constructor() {
    super(1);
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    const values = valuesOf(data) as Int8Array | Int16Array | Uint8Array | Uint16Array;
    const source = values.subarray(first, first + count);
    const signed = source instanceof Int8Array || source instanceof Int16Array;
    (signed ? new Int32Array(out.buffer, out.byteOffset, count) : out).set(source);
  }
}

/** Any number as the nearest f32: doubles, integers, half floats, 64-bit integers, scaled decimals. */
export class F32Encoder extends FixedWidthEncoder {
  constructor() {
    super(1);
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    const target = new Float32Array(out.buffer, out.byteOffset, count);
    const start = first;
    if (data.type.typeId === Type.Decimal) {
      writeDecimals(data, first, count, target);
      return;
    }
    if (data.type.typeId === Type.Float && valuesOf(data) instanceof Uint16Array) {
      const halves = valuesOf(data) as Uint16Array;
      for (let i = 0; i < count; i++) target[i] = halfToFloat(halves[start + i] as number);
      return;
    }
    if (isInt64Values(data)) {
      const words = int64Words(data, first, count, isSigned(data));
      for (let i = 0; i < count; i++) target[i] = int64At(words, i);
      return;
    }
    // TypedArray#set rounds to nearest f32, exactly as Math.fround does. A plain loop is 2–3× faster on
    // values in cache, but not on values just read from memory, as these are (an H100 host's Xeon, 33.5 M
    // values: 73–122 ms against 52–125), and loads of 64 KiB batches were no faster with it.
    target.set((valuesOf(data) as Float64Array).subarray(start, start + count));
  }
}

/** Double-single: hi = f32(v), lo = f32(v − hi), for shader arithmetic with ~48 bits of precision. */
export class F32x2Encoder extends FixedWidthEncoder {
  constructor() {
    super(2);
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    const target = new Float32Array(out.buffer, out.byteOffset, count * 2);
    const value = numberReader(data, first, count);
    for (let i = 0; i < count; i++) {
      const v = value(i);
      const hi = Math.fround(v);
      target[2 * i] = hi;
      target[2 * i + 1] = Math.fround(v - hi);
    }
  }
}

/** f32(v − offset), the offset being the column's first valid value, reported exactly. */
export class RelativeEncoder extends FixedWidthEncoder {
  #offset: { value: number; exact: string } | null = null;

  constructor() {
    super(1);
  }

  override describe(): ColumnExtras {
    return { offset: this.#offset?.exact ?? '0' };
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    this.#offset ??= firstValid(data, first, count);
    const offset = this.#offset?.value ?? 0;
    const target = new Float32Array(out.buffer, out.byteOffset, count);
    if (isInt64Values(data)) {
      // Subtracting word by word keeps the difference exact while it is below 2^53.
      const { lo, hi, start } = int64Words(data, first, count, isSigned(data));
      const oHi = Math.floor(offset / 2 ** 32);
      const oLo = offset - oHi * 2 ** 32;
      for (let i = 0; i < count; i++) {
        const at = (start + i) * 2;
        target[i] = ((hi[at + 1] as number) - oHi) * 2 ** 32 + ((lo[at] as number) - oLo);
      }
      return;
    }
    const value = numberReader(data, first, count);
    for (let i = 0; i < count; i++) target[i] = value(i) - offset;
  }
}

/** Row `i` (from `first`) of a numeric column as a double. */
function numberReader(data: Data, first: number, count: number): (i: number) => number {
  if (isInt64Values(data)) {
    const words = int64Words(data, first, count, isSigned(data));
    return (i) => int64At(words, i);
  }
  const values = valuesOf(data) as Float64Array;
  const start = first;
  return (i) => values[start + i] as number;
}

/** The first non-null value among the rows, with its exact decimal form. */
function firstValid(data: Data, first: number, count: number): { value: number; exact: string } | null {
  for (let i = 0; i < count; i++) {
    if (!data.getValid(first + i)) continue;
    if (isInt64Values(data)) {
      const big = (valuesOf(data) as BigInt64Array)[first + i] as bigint;
      // Rounded to a double so that the subtraction above uses the same offset it reports.
      const value = Number(big);
      return { value, exact: BigInt(value).toString() };
    }
    const value = (valuesOf(data) as Float64Array)[first + i] as number;
    return { value, exact: String(value) };
  }
  return null;
}

function writeDecimals(data: Data, first: number, count: number, target: Float32Array): void {
  const words = valuesOf(data) as Uint32Array;
  const stride = data.stride;
  const scale = 10 ** ((data.type as unknown as { scale: number }).scale ?? 0);
  for (let i = 0; i < count; i++) {
    const at = (first + i) * stride;
    let value = 0;
    for (let w = stride - 1; w >= 0; w--) {
      const word = words[at + w] as number;
      value = value * 2 ** 32 + (w === stride - 1 ? word | 0 : word);
    }
    target[i] = value / scale;
  }
}

/** An IEEE half float (its 16 bits) as a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
