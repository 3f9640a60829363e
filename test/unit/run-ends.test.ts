import {
  type Data,
  Float64,
  Int32,
  makeData,
  makeVector,
  type RecordBatch,
  type Struct,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { checkBatch } from '../../src/core/columns/check-batch.js';
import { columnSlice } from '../../src/core/columns/column-data.js';
import { createEncoder } from '../../src/core/columns/encoders/create-encoder.js';
import type { EncodingRequest } from '../../src/core/columns/encoding.js';
import { type ColumnPlan, planColumns } from '../../src/core/columns/type-plan.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import { batchOf } from '../support/every-type.js';
import { xorshift } from '../support/mutate.js';
import { expandRuns, runEndVector } from '../support/run-end-ipc.js';
import { RUN_END_PATHS, runEndTables } from '../support/run-end-table.js';

// The expansion of RunEndEncoded arrays on the CPU, for arrays sliced anywhere (an IPC array has offset
// 0; arrays made in memory need not): the encoder's words and the column's validity equal those of the
// plain column holding the same rows, encoded in the same pieces; malformed runs are CORRUPT.

/** `ree` viewed from row `offset` on, `length` rows long: its children stay as they are. */
function sliced(ree: Vector<Struct>, offset: number, length: number): Vector<Struct> {
  const data = ree.data[0] as Data<Struct>;
  return makeVector(
    makeData({ type: data.type, offset, length, nullCount: 0, children: data.children } as never),
  ) as unknown as Vector<Struct>;
}

/** Encodes every row of `batch`'s column in pieces of `sizes` (cycled), as the uploader does. */
function encodeInPieces(batch: RecordBatch, plan: ColumnPlan, sizes: readonly number[]): Uint32Array {
  const slice = columnSlice(batch, plan);
  const encoder = createEncoder(plan, slice.data.type);
  const out = new Uint32Array(encoder.wordsFor(batch.numRows) + 1);
  for (let first = 0, i = 0; first < batch.numRows; i++) {
    const count = Math.min(sizes[i % sizes.length] as number, batch.numRows - first);
    const words = new Uint32Array(encoder.wordsFor(count));
    const at = encoder.nextWord;
    encoder.encode(slice.data, first, count, words);
    out.set(words, at);
    first += count;
  }
  return out;
}

/** The validity bits of `batch`'s column, one a row, and its null count. */
function validityOf(batch: RecordBatch, plan: ColumnPlan): { bits: number[]; nullCount: number } {
  const { bitmap, bitOffset, nullCount } = columnSlice(batch, plan);
  const bits = Array.from({ length: batch.numRows }, (_, i) => {
    if (!bitmap) return 1;
    const bit = bitOffset + i;
    return ((bitmap[bit >> 3] ?? 0) >> (bit & 7)) & 1;
  });
  return { bits, nullCount };
}

function planOf(batch: RecordBatch, encodings: EncodingRequest, runEnds: boolean): ColumnPlan {
  return planColumns(batch.schema, { encodings }, 'u', [], runEnds ? [[0]] : []).plans[0] as ColumnPlan;
}

describe('RunEndEncoded arrays, sliced anywhere, expand to the plain column of their values', () => {
  const { ree } = runEndTables();
  const columns = RUN_END_PATHS.filter((p) => !p.includes('.'));
  const requests: EncodingRequest[] = ['auto', 'exact', { c: 'f32x2' }, { c: 'f32-relative' }];
  const random = xorshift(7);

  for (const name of columns) {
    it(`${name}: words and validity, for offsets 0, 1 and 5 and pieces of 1 to 40 rows`, () => {
      let compared = 0;
      for (const batch of ree.batches) {
        const column = batch.getChild(name) as unknown as Vector<Struct>;
        const ends = (column.data[0] as Data).children[0] as Data;
        const lastEnd = Number((ends.values as ArrayLike<number | bigint>)[ends.length - 1] ?? 0);
        for (const offset of [0, 1, 5]) {
          const length = Math.max(0, lastEnd - offset - (offset === 5 ? 2 : 0));
          const array = sliced(column, offset, length);
          const reeBatch = batchOf(length, { c: array });
          const plainBatch = batchOf(length, { c: expandRuns(array) });
          const sizes = Array.from({ length: 8 }, () => 1 + Math.floor(random() * 40));
          for (const encodings of requests) {
            // f32x2 and f32-relative are for the Float64 and Timestamp columns.
            if (typeof encodings === 'object' && name !== 'f64' && name !== 'ts') continue;
            const plain = planOf(plainBatch, encodings, false);
            const runPlan = planOf(reeBatch, encodings, true);
            expect(runPlan.encoding).toBe(plain.encoding);
            const where = `${name} offset ${offset}, ${JSON.stringify(encodings)}`;
            const got = encodeInPieces(reeBatch, runPlan, sizes);
            const want = encodeInPieces(plainBatch, plain, sizes);
            expect([...got], where).toEqual([...want]);
            expect(validityOf(reeBatch, runPlan), where).toEqual(validityOf(plainBatch, plain));
            compared++;
          }
        }
      }
      expect(compared).toBeGreaterThan(0);
    });
  }

  it('the plain columns hold what the runs say: row i has the value of the first run ending above it', () => {
    const values = vectorFromArray([1.5, null, 3.5], new Float64());
    const array = sliced(runEndVector(new Int32(), [2, 5, 9], values), 1, 6);
    expect([...expandRuns(array)]).toEqual([1.5, null, null, null, 3.5, 3.5]);
  });
});

/** The error `checkBatch` throws for a one-column batch of the RunEndEncoded array `ree`. */
function faultOf(ree: Vector<Struct>): ArrowGpuError {
  const batch = batchOf(ree.length, { r: ree });
  const plans = planColumns(batch.schema, {}, 'u', [], [[0]]).plans;
  try {
    checkBatch(batch, plans, { url: 'test://r', batch: 3, byteOffset: 4096 });
  } catch (error) {
    return error as ArrowGpuError;
  }
  throw new Error('checkBatch accepted it');
}

describe('runs that cannot be expanded are CORRUPT before anything reads them', () => {
  const values = vectorFromArray([1, 2, 3, 4], new Float64());
  const cases: Array<[string, () => Vector<Struct>, RegExp]> = [
    ['decreasing run ends', () => runEndVector(new Int32(), [2, 4, 3, 9], values), /run 2 ends at 3/],
    ['a repeated run end', () => runEndVector(new Int32(), [2, 2, 9], values), /run 1 ends at 2/],
    ['a negative run end', () => runEndVector(new Int32(), [-1, 9], values), /run 0 ends at -1/],
    [
      'a slice past the last run end',
      () => sliced(runEndVector(new Int32(), [2, 4, 9], values), 3, 7),
      /last run ends at row 9, before the array's 10 rows/,
    ],
    [
      'runs past the values',
      () => runEndVector(new Int32(), [1, 2, 3, 4, 9], values),
      /values child holds 4 values, its runs need 5/,
    ],
    [
      'null run ends',
      () => {
        const ree = runEndVector(new Int32(), [2, 4, 9], values);
        const data = ree.data[0] as Data;
        const ends = data.children[0] as Data;
        const nullEnds = makeData({
          type: ends.type,
          length: 3,
          nullCount: 1,
          nullBitmap: Uint8Array.of(5),
          data: ends.values,
        } as never);
        return makeVector(
          makeData({
            type: data.type,
            length: 9,
            nullCount: 0,
            children: [nullEnds, data.children[1]],
          } as never),
        ) as unknown as Vector<Struct>;
      },
      /1 run ends are null/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(what, () => {
      const error = faultOf(make());
      expect(error).toBeInstanceOf(ArrowGpuError);
      expect(error.code).toBe('CORRUPT');
      expect(error.message).toMatch(message);
      expect(error.message).toContain('column "r" of batch 3 (message at byte 4096)');
      expect(error.details).toMatchObject({ column: 'r', batch: 3, byteOffset: 4096 });
    });
  }

  it('a slice whose rows the runs cover passes, whatever the runs after it', () => {
    const ree = sliced(runEndVector(new Int32(), [2, 4, 9], values.slice(0, 3)), 3, 6);
    const batch = batchOf(ree.length, { r: ree });
    const plans = planColumns(batch.schema, {}, 'u', [], [[0]]).plans;
    expect(() => checkBatch(batch, plans, { url: 'u', batch: 0, byteOffset: 0 })).not.toThrow();
  });
});
