import { describe, expect, it } from 'vitest';
import type { Predicate } from '../../src/types.js';
import { readBytes, withContext } from '../support/dawn.js';
import { xorshift } from '../support/mutate.js';
import {
  type ColumnTests,
  evaluate,
  maskOf,
  printPredicate,
  type RowValue,
  randomPredicate,
} from '../support/predicates.js';
import { queryData, referenceSummary } from '../support/query-data.js';
import { expectSummary, type QueryTable, withQueryTable } from '../support/query-table.js';

// Filters on Dawn: every mask read back bit by bit, its count and describe over it compared with the
// same predicate evaluated on the CPU over the values the table was made from, on columns split into
// many chunks (512 bytes: 128 rows of a 32-bit column, 64 of a 64-bit one).

const EPOCH = 1767225600000;

/** How random predicates test each column of `queryData`. */
function columnTests(
  values: Record<string, RowValue[]>,
  source: Record<string, unknown[]>,
): Record<string, ColumnTests> {
  const inf = [-Infinity, Infinity];
  const of = (name: string) => values[name] ?? [];
  return {
    f32: {
      values: of('f32'),
      range: true,
      others: [0.1, 0, -0, Math.fround(0.1), ...inf],
      extremes: [...inf, -1e300, 2n ** 70n, 0],
    },
    f64: {
      values: of('f64'),
      range: true,
      others: [0.5, 2n ** 53n + 1n, 2n ** 60n, ...inf],
      extremes: [...inf, -(2n ** 80n), 2n ** 53n + 1n, -0],
    },
    i32: {
      values: of('i32'),
      range: true,
      others: [0.5, 2 ** 31, -(2 ** 31) - 1, 7n ** 30n],
      extremes: [...inf, -(2n ** 31n), 2n ** 31n, 1e20, -1e20, 1.5],
    },
    u32: {
      values: of('u32'),
      range: true,
      others: [-1, 2 ** 32, 0.5, 0],
      extremes: [...inf, -5, 2 ** 32, 2n ** 40n, 0, 2 ** 31 + 0.5],
    },
    i64: {
      values: of('i64'),
      range: true,
      others: [2 ** 63, 0.5, 2n ** 63n, -(2 ** 62)],
      extremes: [...inf, -(2n ** 63n), 2n ** 63n - 1n, 2 ** 62, -(2 ** 63)],
    },
    u64: {
      values: of('u64'),
      range: true,
      others: [-1n, 2n ** 64n, 2 ** 63],
      extremes: [...inf, 0n, 2n ** 64n - 1n, 2n ** 64n, -1, 2 ** 64, 2 ** 63],
    },
    flag: {
      values: of('flag'),
      range: true,
      others: [0, 1, 1n, 2, -1, 0.5, true, false],
      extremes: [...inf, 0, 1, 2, 0.5],
    },
    city: { values: of('city'), range: false, others: ['Nowhere', 'oslo', ''], extremes: [] },
    // The source's timestamps are mostly not what the GPU holds (f32 steps of 8 ms around the offset).
    ts: {
      values: of('ts'),
      range: true,
      others: [...((source.ts ?? []).slice(0, 3).filter((v) => v !== null) as number[]), BigInt(EPOCH)],
      extremes: [...inf, EPOCH, BigInt(EPOCH) + 1n, EPOCH + 43_200_000.5],
    },
    empty: { values: of('empty'), range: true, others: [0, 1], extremes: [...inf, 0] },
  };
}

/** One of each column test on every column: ranges and lists from its own values, both null tests. */
function everyTest(tests: Record<string, ColumnTests>): Predicate[] {
  const out: Predicate[] = [];
  for (const [column, t] of Object.entries(tests)) {
    const present = t.values.filter((v) => v !== null && !(typeof v === 'number' && Number.isNaN(v)));
    const a = present[0] ?? t.others[0];
    const b = present[present.length >> 1] ?? t.others[0];
    out.push({ column, isNull: true }, { column, isNull: false });
    out.push({ column, in: [a, b, ...t.others].filter((v) => v !== undefined) as never });
    if (t.range) {
      const x = typeof a === 'boolean' ? Number(a) : (a as number | bigint);
      const y = typeof b === 'boolean' ? Number(b) : (b as number | bigint);
      out.push(
        { column, range: x <= y ? [x, y] : [y, x] },
        { not: { column, range: [-Infinity, Infinity] } },
      );
    }
  }
  return out;
}

/** Makes a filter of `predicate` and checks its mask bit by bit, its count and its row count. */
async function expectFilter(
  { store, tableId, data, values }: QueryTable,
  context: Parameters<Parameters<typeof withContext>[0]>[0],
  predicate: Predicate,
): Promise<{ filterId: number; keep: (row: number) => boolean }> {
  const label = printPredicate(predicate);
  const snapshot = await store.filter(tableId, predicate);
  const keep = (row: number) => evaluate(predicate, (column) => values[column]?.[row] ?? null);
  const expected = maskOf(data.rows, keep);
  const mask = await store.mask(tableId, snapshot.filterId);
  const got = new Uint32Array(
    (await readBytes(context.device, context.tracker, mask, expected.byteLength)).buffer,
  );
  expect({ rows: snapshot.rows, count: snapshot.count }, label).toEqual({
    rows: data.rows,
    count: expected.reduce((n, w) => n + popcount(w), 0),
  });
  expect(Array.from(got), label).toEqual(Array.from(expected));
  return { filterId: snapshot.filterId, keep };
}

function popcount(word: number): number {
  let n = 0;
  for (let w = word >>> 0; w !== 0; w >>>= 1) n += w & 1;
  return n;
}

const DESCRIBED = ['f32', 'f64', 'i32', 'u32', 'i64', 'u64', 'flag', 'city', 'ts', 'empty'];

describe('filter', () => {
  for (const rows of [1000, 1, 0]) {
    it(`keeps exactly the rows the CPU keeps, and describe over it agrees, on ${rows} rows over many chunks`, async () => {
      await withContext((context) =>
        withQueryTable(context, queryData(rows, 11), async (table) => {
          const tests = columnTests(table.values, table.data.values as Record<string, unknown[]>);
          const random = xorshift(rows + 3);
          const predicates = [
            ...everyTest(tests),
            { and: [] },
            { or: [] },
            ...Array.from({ length: 40 }, () => randomPredicate(tests, random, 3)),
          ];
          for (const [k, predicate] of predicates.entries()) {
            const { filterId, keep } = await expectFilter(table, context, predicate);
            // Each column described over some filter, the rest in turn.
            const name = DESCRIBED[k % DESCRIBED.length] as string;
            const got = await table.store.describe(table.tableId, name, { filterId });
            const reference = referenceSummary(table.numeric[name] ?? [], keep);
            expectSummary(name, got, reference, `${name} where ${printPredicate(predicate)}`);
            // Every other filter is left to the table's destroy.
            if (k % 2 === 0) table.store.destroyFilter(table.tableId, filterId);
          }
        }),
      );
    }, 300_000);
  }
});
