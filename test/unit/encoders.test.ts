import {
  Bool,
  type Data,
  type DataType,
  Decimal,
  Dictionary,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float16,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Uint16,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnSlice } from '../../src/core/columns/column-data.js';
import { createEncoder } from '../../src/core/columns/encoders/create-encoder.js';
import { halfToFloat } from '../../src/core/columns/encoders/float-encoders.js';
import type { EncodingRequest } from '../../src/core/columns/encoding.js';
import { type ColumnPlan, planColumns } from '../../src/core/columns/type-plan.js';

/**
 * Encodes `batches` of one column as the uploader does, batch after batch, into one word array whose
 * every word starts as `stale` (a staging buffer mapped again holds an earlier batch's words).
 */
function encodeColumn(type: DataType, batches: Data[], encodings: EncodingRequest = 'auto', stale = 0) {
  const { plans } = planColumns(new Schema([new Field('c', type)]), { encodings }, 'u');
  const plan = plans[0];
  if (!plan) throw new Error('no plan');
  const encoder = createEncoder(plan, type);
  const rows = batches.reduce((n, b) => n + b.length, 0);
  const words = new Uint32Array(Math.ceil(rows * plan.components) + 1).fill(stale);
  for (const data of batches) {
    const n = encoder.wordsFor(data.length);
    const out = words.subarray(encoder.nextWord, encoder.nextWord + n);
    const raw = encoder.rawBytes(data, 0, data.length);
    if (raw) {
      new Uint8Array(out.buffer, out.byteOffset, raw.byteLength).set(raw);
      encoder.advance(data.length);
    } else encoder.encode(data, 0, data.length, out);
  }
  return { words: words.subarray(0, Math.ceil(rows * plan.components)), plan, encoder };
}

/** Splits values into batches of the given sizes (cycled), as separate Arrow data. */
function batchesOf<T>(values: T[], type: DataType, sizes: number[]): Data[] {
  const out: Data[] = [];
  for (let at = 0, i = 0; at < values.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] as number);
    out.push(vectorFromArray(values.slice(at, at + size), type).data[0] as Data);
    at += size;
  }
  return out;
}

const sizes = fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 5 });

describe('encoders write the documented words, batch after batch', () => {
  it('i32: Int8/16 sign-extended, Int32 as it is', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 1 }), sizes, (values, cut) => {
        for (const type of [new Int8(), new Int16(), new Int32()]) {
          const { words } = encodeColumn(type, batchesOf(values, type, cut));
          expect(Array.from(new Int32Array(words.buffer, words.byteOffset, words.length))).toEqual(values);
        }
      }),
    );
  });

  it('u32: Uint16 zero-extended', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1 }), sizes, (values, cut) => {
        expect(Array.from(encodeColumn(new Uint16(), batchesOf(values, new Uint16(), cut)).words)).toEqual(
          values,
        );
      }),
    );
  });

  it('f32: Float64 rounded as Math.fround, Float16 exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1 }), sizes, (values, cut) => {
        const { words } = encodeColumn(new Float64(), batchesOf(values, new Float64(), cut));
        expect(Array.from(new Float32Array(words.buffer, words.byteOffset, words.length))).toEqual(
          values.map(Math.fround),
        );
      }),
    );
    const halves = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000]);
    const data = makeData({ type: new Float16(), length: halves.length, data: halves });
    const { words } = encodeColumn(new Float16(), [data]);
    expect(Array.from(new Float32Array(words.buffer, words.byteOffset, words.length))).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      Number.POSITIVE_INFINITY,
      -0,
    ]);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('i64 / u64: lo word then hi word, two’s complement, every bit kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: 1 }),
        sizes,
        (values, cut) => {
          const { words } = encodeColumn(new Int64(), batchesOf(values, new Int64(), cut));
          const back = Array.from({ length: values.length }, (_, i) =>
            BigInt.asIntN(64, (BigInt(words[2 * i + 1] as number) << 32n) | BigInt(words[2 * i] as number)),
          );
          expect(back).toEqual(values);
        },
      ),
    );
    const big = [0n, 2n ** 64n - 1n, 2n ** 53n + 1n];
    const { words } = encodeColumn(new Uint64(), [vectorFromArray(big, new Uint64()).data[0] as Data]);
    expect(Array.from(words)).toEqual([0, 0, 0xffffffff, 0xffffffff, 1, 0x200000]);
  });

  it('f64: the IEEE bits, lo word then hi word', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1 }), sizes, (values, cut) => {
        const { words } = encodeColumn(new Float64(), batchesOf(values, new Float64(), cut), 'exact');
        expect(Array.from(new Float64Array(words.slice().buffer))).toEqual(values);
      }),
    );
  });

  it('f32x2: hi + lo reconstructs a double to within 2^-44 of its magnitude', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e30, max: 1e30, noNaN: true }), { minLength: 1 }), (values) => {
        const { words } = encodeColumn(
          new Float64(),
          [vectorFromArray(values, new Float64()).data[0] as Data],
          {
            c: 'f32x2',
          },
        );
        const f = new Float32Array(words.buffer, words.byteOffset, words.length);
        values.forEach((v, i) => {
          const hi = f[2 * i] as number;
          expect(hi).toBe(Math.fround(v));
          expect(Math.abs(hi + (f[2 * i + 1] as number) - v)).toBeLessThanOrEqual(
            Math.abs(v) * 2 ** -44 + 1e-45,
          );
        });
      }),
    );
  });

  it('f32-relative: f32(v − offset) with the first valid value as the exact offset (timestamps past f32)', () => {
    const ms = [null, 1767225600000n, 1767225600123n, 1767225599000n];
    const type = new TimestampMillisecond();
    const data = vectorFromArray(ms, type).data[0] as Data;
    const { words, encoder } = encodeColumn(type, [data], { c: 'f32-relative' });
    expect(encoder.describe()).toEqual({ offset: '1767225600000' });
    expect(Array.from(new Float32Array(words.buffer, words.byteOffset, words.length)).slice(1)).toEqual([
      0, 123, -1000,
    ]);
  });

  it('bool: bit i & 31 of word i >> 5, across batches of any size', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 300 }), sizes, (values, cut) => {
        const { words } = encodeColumn(new Bool(), batchesOf(values, new Bool(), cut));
        values.forEach((v, i) => {
          expect(((words[i >> 5] as number) >>> (i & 31)) & 1, `row ${i}`).toBe(v ? 1 : 0);
        });
      }),
    );
  });

  it('decimal: the unscaled value in bitWidth/32 words, least significant first', () => {
    const words4 = new Uint32Array([5, 0, 0, 0, 0xfffffffb, 0xffffffff, 0xffffffff, 0xffffffff]);
    const type = new Decimal(2, 10, 128);
    const data = makeData({ type, length: 2, data: words4 });
    const { words, plan } = encodeColumn(type, [data]);
    expect(plan).toMatchObject({ encoding: 'decimal', components: 4, scale: 2 });
    expect(Array.from(words)).toEqual(Array.from(words4));
    const asF32 = encodeColumn(type, [data], { c: 'f32' }).words;
    expect(Array.from(new Float32Array(asF32.buffer, asF32.byteOffset, 2))).toEqual([
      Math.fround(0.05),
      Math.fround(-0.05),
    ]);
  });

  it('bytes: each value in order, zero-padded to whole words', () => {
    const type = new FixedSizeBinary(5);
    const data = makeData({ type, length: 2, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) });
    const { words } = encodeColumn(type, [data]);
    expect(Array.from(new Uint8Array(words.buffer, words.byteOffset, 16))).toEqual([
      1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 8, 9, 10, 0, 0, 0,
    ]);
  });

  it('vector: components interleaved per row, each in its element encoding (Bool as 0 or 1)', () => {
    const points = vectorFromArray(
      [
        [1.5, 2.5],
        [3.5, 4.5],
      ],
      new FixedSizeList(2, new Field('xy', new Float32())),
    );
    const { words } = encodeColumn(points.type, [...points.data] as Data[]);
    expect(Array.from(new Float32Array(words.buffer, words.byteOffset, 4))).toEqual([1.5, 2.5, 3.5, 4.5]);
    const flags = vectorFromArray([[true, false, true]], new FixedSizeList(3, new Field('f', new Bool())));
    expect(Array.from(encodeColumn(flags.type, [...flags.data] as Data[]).words)).toEqual([1, 0, 1]);
  });

  it('dictionary: one table-wide dictionary, whatever each batch’s dictionary is', () => {
    const type = new Dictionary(new Utf8(), new Int32());
    const first = vectorFromArray(['b', 'a', 'b'], type).data[0] as Data;
    const second = vectorFromArray(['c', 'a', null], type).data[0] as Data;
    const { words, encoder } = encodeColumn(type, [first, second]);
    const values = (encoder as unknown as { values(): unknown[] }).values();
    expect(values).toEqual(['b', 'a', 'c']);
    expect(
      Array.from(words)
        .slice(0, 5)
        .map((code) => values[code]),
    ).toEqual(['b', 'a', 'b', 'c', 'a']);
  });

  it('dictionary: a null dictionary value decodes as null, not as the empty string', () => {
    const type = new Dictionary(new Utf8(), new Int32());
    const dictionary = vectorFromArray(['', null, 'a'], new Utf8());
    const data = makeData({ type, length: 3, nullCount: 0, data: new Int32Array([1, 0, 2]), dictionary });
    const { words, encoder } = encodeColumn(type, [data]);
    const values = (encoder as unknown as { values(): unknown[] }).values();
    expect(Array.from(words, (code) => values[code])).toEqual([null, '', 'a']);
  });

  it('dictionary: plain strings are dictionary-encoded, and the cap is LIMIT_EXCEEDED naming the column', () => {
    const strings = vectorFromArray(['x', 'y', 'x', 'é'], new Utf8()).data[0] as Data;
    const { words, encoder } = encodeColumn(new Utf8(), [strings]);
    expect(Array.from(words)).toEqual([0, 1, 0, 2]);
    expect((encoder as unknown as { values(): unknown[] }).values()).toEqual(['x', 'y', 'é']);
    const { plans } = planColumns(new Schema([new Field('name', new Utf8())]), {}, 'u');
    const capped = createEncoder(plans[0] as never, new Utf8(), { maxDictionary: 2 });
    expect(() => capped.encode(strings, 0, 4, new Uint32Array(4))).toThrow(
      /"name" has more than 2 distinct values/,
    );
  });
});

describe('memory that is not cleared', () => {
  // Staging buffers and a decode worker's scratch buffers are reused without clearing: an encoder must
  // write every word it owns, whatever the memory held.
  it('every encoding writes every word of its rows: stale memory gives the same words as zeroed', () => {
    const cases: Array<[DataType, unknown[], EncodingRequest]> = [
      [new Int8(), [1, -2, 3, null, 5, -6, 7], 'auto'],
      [new Uint16(), [1, 2, 65535, null, 5], 'auto'],
      [new Float64(), [0.5, -1.5, null, 1e300, 4.5], 'auto'],
      [new Float64(), [0.5, -1.5, null, 1e300, 4.5], 'exact'],
      [new Float64(), [0.5, -1.5, null, 1e30, 4.5], { c: 'f32x2' }],
      [new Int64(), [1n, -2n, null, 2n ** 62n], 'auto'],
      [new TimestampMillisecond(), [1767225600000n, null, 1767225600123n], { c: 'f32-relative' }],
      [new Bool(), Array.from({ length: 70 }, (_, i) => (i % 5 === 0 ? null : i % 3 === 0)), 'auto'],
      [new FixedSizeBinary(5), [new Uint8Array([1, 2, 3, 4, 5]), null, new Uint8Array(5).fill(9)], 'auto'],
      [
        new FixedSizeList(3, new Field('f', new Bool())),
        [[true, false, true], null, [false, false, true]],
        'auto',
      ],
      [new FixedSizeList(2, new Field('v', new Int16())), [[1, -2], [3, 4], null], 'auto'],
      [new Dictionary(new Utf8(), new Int32()), ['b', 'a', null, 'b', 'c'], 'auto'],
      [new Utf8(), ['x', 'y', null, 'x'], 'auto'],
    ];
    fc.assert(
      fc.property(sizes, fc.integer({ min: 1, max: 0xffffffff }), (cut, stale) => {
        for (const [type, values, encodings] of cases) {
          const zeroed = encodeColumn(type, batchesOf(values, type, cut), encodings).words;
          const reused = encodeColumn(type, batchesOf(values, type, cut), encodings, stale).words;
          expect(Array.from(reused), String(type)).toEqual(Array.from(zeroed));
        }
      }),
    );
  });
});

describe('column validity', () => {
  it('a vector row with a null element is null: the GPU has no validity per element', () => {
    const type = new FixedSizeList(2, new Field('v', new Int32(), true));
    const xy = vectorFromArray([[1, 2], [3, null], null, [5, 6]], type);
    const schema = new Schema([new Field('xy', type, true)]);
    const { plans } = planColumns(schema, {}, 'u');
    const slice = columnSlice(
      new RecordBatch(
        schema,
        makeData({
          type: new Struct(schema.fields),
          length: 4,
          nullCount: 0,
          children: [xy.data[0] as Data],
        }),
      ),
      plans[0] as ColumnPlan,
    );
    const bits = Array.from({ length: 4 }, (_, i) => ((slice.bitmap?.[0] as number) >> i) & 1);
    expect({ bits, nullCount: slice.nullCount }).toEqual({ bits: [1, 0, 0, 1], nullCount: 2 });
  });
});

describe('sliced columns', () => {
  // apache-arrow slices values and offsets with the data but keeps bitmaps (and Bool values) whole,
  // shifted by `data.offset`: every encoder must read a slice from its own first row.
  it('encode from the slice’s first row, for every kind of buffer', () => {
    const cases: Array<[DataType, unknown[]]> = [
      [new Int16(), [1, -2, 3, -4, 5, -6, 7]],
      [new Float64(), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]],
      [new Bool(), [true, false, false, true, true, false, true]],
      [new Utf8(), ['a', 'b', 'c', 'd', 'e', 'f', 'g']],
      [new Int64(), [1n, 2n, 3n, 4n, 5n, 6n, 7n]],
    ];
    for (const [type, values] of cases) {
      const whole = vectorFromArray(values, type);
      const sliced = whole.slice(3).data[0] as Data;
      const fresh = vectorFromArray(values.slice(3), type).data[0] as Data;
      expect(Array.from(encodeColumn(type, [sliced]).words), String(type)).toEqual(
        Array.from(encodeColumn(type, [fresh]).words),
      );
    }
    const xy = vectorFromArray(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      new FixedSizeList(2, new Field('v', new Float32())),
    );
    const { words } = encodeColumn(xy.type, [xy.slice(1).data[0] as Data]);
    expect(Array.from(new Float32Array(words.buffer, words.byteOffset, 4))).toEqual([3, 4, 5, 6]);
  });
});
