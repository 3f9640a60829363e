import {
  Binary,
  Data,
  Dictionary,
  Int32,
  LargeUtf8,
  makeData,
  Utf8,
  Vector,
  vectorFromArray,
} from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBatch } from '../../src/core/columns/check-batch.js';
import { keyBytes } from '../../src/core/columns/encoders/byte-keys.js';
import { ByteTable } from '../../src/core/columns/encoders/byte-table.js';
import { DictionaryEncoder } from '../../src/core/columns/encoders/dictionary-encoder.js';
import {
  joinDictionary,
  type LocalDictionary,
  splitDictionary,
} from '../../src/core/columns/local-dictionary.js';
import { planColumns } from '../../src/core/columns/type-plan.js';
import type { ArrowGpuError } from '../../src/core/errors.js';
import { DICTIONARY_BATCHES, WorkerDictionaries } from '../../src/core/pipeline/pool/batch-encoder.js';
import { batchOf } from '../support/every-type.js';

/**
 * Keys as byte strings over a tiny alphabet, so that repeats, prefixes and empty keys are common; some
 * longer than a four-byte step, with tails of every length.
 */
const keys = fc.array(
  fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 6, max: 2 }),
    fc.uint8Array({ minLength: 7, maxLength: 13, max: 1 }),
  ),
  { maxLength: 3000 },
);
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

describe('ByteTable', () => {
  it('gives each distinct key the code it was added with, and -1 for keys never added', () => {
    fc.assert(
      fc.property(keys, fc.integer({ min: 0, max: 64 }), (list, pad) => {
        const table = new ByteTable();
        const reference = new Map<string, number>();
        // Keys are read out of a larger buffer, at an offset, as rows of a column are.
        const arena = new Uint8Array(pad + list.reduce((n, k) => n + k.length, 0));
        const source = keyBytes(arena);
        let at = pad;
        for (const key of list) {
          arena.set(key, at);
          const end = at + key.length;
          const expected = reference.get(hex(key)) ?? -1;
          expect(table.get(source, at, end)).toBe(expected);
          if (expected < 0) {
            const code = 7 * reference.size + 3; // codes are the caller's: not the entry's index
            table.add(source, at, end, code);
            reference.set(hex(key), code);
          }
          at = end;
        }
        expect(table.size).toBe(reference.size);
        for (const [key, code] of reference) {
          const bytes = Uint8Array.from(key.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
          expect(table.get(keyBytes(bytes), 0, bytes.length)).toBe(code);
        }
        expect(table.get(keyBytes(new Uint8Array([3, 3, 3, 3, 3, 3, 3])), 0, 7)).toBe(-1);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps every key through many growths (100,000 keys)', () => {
    const table = new ByteTable();
    const encoder = new TextEncoder();
    const bytesOf = (k: number) => encoder.encode(`key-${k}`);
    for (let k = 0; k < 100_000; k++) {
      const bytes = bytesOf(k);
      table.add(keyBytes(bytes), 0, bytes.length, k);
    }
    const wrong: number[] = [];
    for (let k = 0; k < 100_000; k++) {
      const bytes = bytesOf(k);
      if (table.get(keyBytes(bytes), 0, bytes.length) !== k) wrong.push(k);
    }
    expect(wrong).toEqual([]);
    expect(table.size).toBe(100_000);
  });
});

describe('DictionaryEncoder on text', () => {
  const strings = fc.array(
    fc.option(fc.constantFrom('', 'a', 'ab', 'b', 'é', 'a\u0000', 'Kobarin Tesuma'), { nil: null }),
    {
      maxLength: 400,
    },
  );

  it('codes rows by first appearance, nulls as 0, the same for Utf8 and LargeUtf8 and across batches', () => {
    fc.assert(
      fc.property(strings, fc.integer({ min: 1, max: 50 }), (values, cut) => {
        for (const type of [new Utf8(), new LargeUtf8()]) {
          const encoder = new DictionaryEncoder({ column: 'name', maxDictionary: 1000 });
          const codes: number[] = [];
          for (let first = 0; first < values.length; first += cut) {
            const data = vectorFromArray(values.slice(first, first + cut), type).data[0] as Data;
            const out = new Uint32Array(data.length);
            encoder.encode(data, 0, data.length, out);
            codes.push(...out);
          }
          const seen = [...new Set(values.filter((v) => v !== null))];
          expect(encoder.values()).toEqual(seen);
          expect(codes).toEqual(values.map((v) => (v === null ? 0 : seen.indexOf(v))));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('reads rows of a slice from its offsets and its bitmap, whatever the slice starts at', () => {
    const data = vectorFromArray(['x', 'y', null, 'z', 'y', 'x'], new Utf8()).data[0] as Data;
    const encoder = new DictionaryEncoder({ column: 'name', maxDictionary: 10 });
    const out = new Uint32Array(3);
    encoder.encode(data.slice(1, 5), 1, 3, out); // null, 'z', 'y'
    expect(encoder.values()).toEqual(['z', 'y']);
    expect(Array.from(out)).toEqual([0, 0, 1]);
  });

  it('binary values are kept as bytes', () => {
    const data = makeData({
      type: new Binary(),
      length: 3,
      valueOffsets: new Int32Array([0, 2, 4, 5]),
      data: new Uint8Array([1, 2, 1, 2, 9]),
    });
    const encoder = new DictionaryEncoder({ column: 'blob', maxDictionary: 10 });
    const out = new Uint32Array(3);
    encoder.encode(data, 0, 3, out);
    expect(Array.from(out)).toEqual([0, 0, 1]);
    expect(encoder.values()).toEqual([new Uint8Array([1, 2]), new Uint8Array([9])]);
  });
});

describe('dictionaries of the decode workers’ own (splitDictionary, joinDictionary)', () => {
  const values = fc.array(
    fc.option(fc.constantFrom('', 'a', 'ab', 'b', 'é', 'x y', 'Kobarin Tesuma'), { nil: null }),
    { maxLength: 300 },
  );
  const encode = (encoder: DictionaryEncoder, data: Data) => {
    const out = new Uint32Array(data.length);
    encoder.encode(data, 0, data.length, out);
    return Array.from(out);
  };

  it('give the table’s dictionary the same codes and values as the rows themselves, whichever worker codes which batch', () => {
    fc.assert(
      fc.property(
        values,
        fc.integer({ min: 1, max: 40 }),
        fc.nat(5),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 5 }),
        (rows, cut, skip, assignment, batchesEach) => {
          for (const type of [new Utf8(), new LargeUtf8(), new Binary()]) {
            const direct = new DictionaryEncoder({ column: 'name', maxDictionary: 1000 });
            const loader = new DictionaryEncoder({ column: 'name', maxDictionary: 1000 });
            // Up to four workers, each with its dictionaries (a new one every `batchesEach` batches); the
            // loader's copy of each, grown in source order, as prepareBatch keeps them.
            const workers = Array.from({ length: 4 }, () => new WorkerDictionaries(batchesEach));
            const seen = new Map<string, Vector>();
            const asType =
              type instanceof Binary
                ? rows.map((v) => (v === null ? null : new TextEncoder().encode(v)))
                : rows;
            for (let first = 0, batch = 0; first < rows.length; first += cut, batch++) {
              // A slice at an offset (after `skip` rows), as a batch's column can be.
              const chunk = asType.slice(first, first + cut);
              const pad = type instanceof Binary ? new Uint8Array([7]) : 'pad';
              const padded = [...Array.from({ length: skip }, (_, k) => (k % 2 ? null : pad)), ...chunk];
              const data = (vectorFromArray(padded, type as never).data[0] as Data).slice(skip, chunk.length);
              const own = (workers[assignment[batch % assignment.length] as number] as WorkerDictionaries).of(
                0,
              );
              const split = splitDictionary(data, own.table) as LocalDictionary;
              if (own.replaces !== null) seen.delete(own.replaces);
              const known = seen.get(own.key);
              const added = new Vector([split.added]);
              const dictionary = known ? known.concat(added) : added;
              seen.set(own.key, dictionary);
              expect(encode(loader, joinDictionary(type, split.codes, dictionary))).toEqual(
                encode(direct, data),
              );
            }
            expect(loader.values()).toEqual(direct.values());
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('each serve DICTIONARY_BATCHES batches, then a new one takes the place of the last', () => {
    const dictionaries = new WorkerDictionaries();
    const first = dictionaries.of(2);
    expect(first.replaces).toBeNull();
    for (let i = 1; i < DICTIONARY_BATCHES; i++) {
      const again = dictionaries.of(2);
      expect([again.key, again.table, again.replaces]).toEqual([first.key, first.table, null]);
    }
    const next = dictionaries.of(2);
    expect(next.key).not.toBe(first.key);
    expect(next.table).not.toBe(first.table);
    expect(next.replaces).toBe(first.key);
    expect(dictionaries.of(3).key, 'another column: a dictionary of its own').not.toBe(next.key);
    expect(new WorkerDictionaries().of(2).key, 'another worker or load: another key').not.toBe(first.key);
  });

  it('send each distinct value once, in order of first appearance, and leave other types alone', () => {
    const table = new ByteTable();
    const data = vectorFromArray(['b', null, 'a', 'b', 'a', 'c'], new Utf8()).data[0] as Data;
    const split = splitDictionary(data.slice(1, 4), table) as LocalDictionary;
    expect(Array.from(split.codes.values)).toEqual([0, 0, 1, 0]);
    expect([...new Vector([split.added])]).toEqual(['a', 'b']);
    expect(split.codes.nullCount).toBe(1);
    const next = splitDictionary(vectorFromArray(['c', 'a', 'd'], new Utf8()).data[0] as Data, table);
    expect(Array.from(next?.codes.values ?? [])).toEqual([2, 0, 3]);
    expect([...new Vector([next?.added as Data])], 'only the values new to the worker').toEqual(['c', 'd']);
    expect(splitDictionary(vectorFromArray([1, 2], new Int32()).data[0] as Data)).toBeNull();
  });
});

describe('text offsets that no writer makes are CORRUPT before any value is read', () => {
  /** The error `checkBatch` throws for a one-column batch of `vector`, or null. */
  function faultOf(vector: Vector): ArrowGpuError | null {
    const batch = batchOf(vector.length, { name: vector });
    const { plans } = planColumns(batch.schema, {}, 'test://t');
    try {
      checkBatch(batch, plans, { url: 'test://t', batch: 2, byteOffset: 512 });
    } catch (error) {
      return error as ArrowGpuError;
    }
    return null;
  }
  const text = (offsets: number[], bytes = 'abcdef') =>
    new Vector([
      makeData({
        type: new Utf8(),
        length: offsets.length - 1,
        valueOffsets: new Int32Array(offsets),
        data: new TextEncoder().encode(bytes),
      }),
    ]);

  it('offsets that go down', () => {
    const error = faultOf(text([0, 3, 1, 6]));
    expect(error?.code).toBe('CORRUPT');
    expect(error?.message).toMatch(/column "name" of batch 2 .*offsets go down at row 1: from 3 to 1/);
  });

  it('a first offset below 0', () => {
    expect(faultOf(text([-2, 3, 6]))?.message).toMatch(/offsets start at -2/);
  });

  it('a dictionary whose values’ offsets go down (its first use)', () => {
    const dictionary = text([0, 4, 2, 6]);
    const type = new Dictionary(new Utf8(), new Int32());
    const codes = makeData({ type, length: 2, data: new Int32Array([0, 2]), dictionary });
    const error = faultOf(new Vector([codes]));
    expect(error?.code).toBe('CORRUPT');
    expect(error?.message).toMatch(/its dictionary: offsets go down at row 1/);
  });

  it('offsets that rise or stay are accepted, from any first offset', () => {
    expect(faultOf(text([1, 1, 3, 6]))).toBeNull();
  });
});

describe('DictionaryEncoder on Arrow dictionary codes', () => {
  const dictionary = vectorFromArray(['p', 'q', 'r', 's'], new Utf8());
  const type = new Dictionary(new Utf8(), new Int32());
  const rows = fc.array(
    fc.record({ index: fc.integer({ min: 0, max: 3 }), valid: fc.boolean(), junk: fc.integer() }),
    {
      maxLength: 200,
    },
  );

  it('null rows hold 0 whatever index they carry; valid rows their value’s code', () => {
    fc.assert(
      fc.property(rows, fc.nat(9), (list, offset) => {
        const length = list.length;
        const bitmap = new Uint8Array(Math.ceil((offset + length) / 8) + 1);
        const indices = new Int32Array(length);
        list.forEach((row, i) => {
          const byte = (offset + i) >> 3;
          if (row.valid) bitmap[byte] = (bitmap[byte] as number) | (1 << ((offset + i) & 7));
          indices[i] = row.valid ? row.index : row.junk; // a null row's index may be anything
        });
        const nullCount = list.filter((r) => !r.valid).length;
        const data = new Data(
          type,
          offset,
          length,
          nullCount,
          [undefined, indices, bitmap] as never,
          [],
          dictionary,
        );
        const encoder = new DictionaryEncoder({ column: 'c', maxDictionary: 10 });
        const out = new Uint32Array(length).fill(0xdead);
        encoder.encode(data, 0, length, out);
        expect(encoder.values()).toEqual(['p', 'q', 'r', 's']);
        expect(Array.from(out)).toEqual(list.map((r) => (r.valid ? r.index : 0)));
      }),
      { numRuns: 100 },
    );
  });

  it('a valid row whose index is outside the dictionary is a RangeError naming it', () => {
    const data = makeData({ type, length: 3, data: new Int32Array([0, 4, 1]), dictionary });
    const encoder = new DictionaryEncoder({ column: 'c', maxDictionary: 10 });
    expect(() => encoder.encode(data, 0, 3, new Uint32Array(3))).toThrow(/index 4 is outside its 4 values/);
  });
});

describe('the bytes of a table’s distinct values', () => {
  it('past their cap are LIMIT_EXCEEDED naming the column (a ByteTable alone: a RangeError)', () => {
    const encoder = new DictionaryEncoder({ column: 'name', maxDictionary: 100, maxBytes: 10 });
    const data = vectorFromArray(['abcd', 'efgh', 'abcd', 'ijkl'], new Utf8()).data[0] as Data;
    let error: unknown = null;
    try {
      encoder.encode(data, 0, 4, new Uint32Array(4));
    } catch (thrown) {
      error = thrown;
    }
    expect((error as ArrowGpuError).code).toBe('LIMIT_EXCEEDED');
    expect((error as ArrowGpuError).message).toMatch(
      /Column "name" has more than 10 bytes of distinct values; leave the column out/,
    );
    expect((error as ArrowGpuError).details).toMatchObject({ column: 'name', expected: 10, actual: 12 });
    const table = new ByteTable(4);
    const bytes = keyBytes(new Uint8Array([1, 2, 3, 4, 5]));
    table.add(bytes, 0, 4, 0);
    expect(table.byteLength).toBe(4);
    expect(() => table.add(bytes, 4, 5, 1)).toThrow(RangeError);
  });
});
