import { Field, FixedSizeList, Float32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ArrowGpuError } from '../../src/core/errors.js';
import { withContext } from '../support/dawn.js';
import { type QueryData, queryData, referenceSummary } from '../support/query-data.js';
import { expectSummary, withQueryTable } from '../support/query-table.js';

// Queries on Dawn: every describe, histogram and filter result compared with the same computation done
// on the CPU over the values the table was made from, on columns split into many chunks.

const COLUMNS = ['f32', 'f64', 'i32', 'u32', 'i64', 'u64', 'flag', 'city', 'ts', 'empty'];

describe('describe', () => {
  for (const rows of [1000, 1, 0]) {
    it(`matches the CPU on every column of ${rows} rows spread over many chunks`, async () => {
      await withContext((context) =>
        withQueryTable(context, queryData(rows), async ({ store, tableId, reference }) => {
          for (const name of COLUMNS) {
            const t0 = performance.now();
            const got = await store.describe(tableId, name);
            if (process.env.QUERY_TIMES) console.log(name, rows, Math.round(performance.now() - t0));
            expectSummary(name, got, referenceSummary(reference[name] ?? []));
          }
          // Twice: the second call reuses the kernels and scratch of the first.
          expectSummary('f32', await store.describe(tableId, 'f32'), referenceSummary(reference.f32 ?? []));
        }),
      );
    });
  }
});

describe('misuse', () => {
  it('names the column: unknown is NO_SUCH_COLUMN, an encoding queries cannot read is INVALID_ARGUMENT', async () => {
    await withContext(async (context) => {
      const table = new Table({
        x: vectorFromArray([1, 2, 3], new Float32()),
        xy: vectorFromArray([[1, 2], [3, 4], null], new FixedSizeList(2, new Field('v', new Float32()))),
      });
      const bytes = tableToIPC(table, 'stream');
      const data: QueryData = { rows: 3, bytes, values: {} };
      await withQueryTable(context, data, async ({ store, tableId }) => {
        await expect(store.describe(tableId, 'nope')).rejects.toMatchObject({ code: 'NO_SUCH_COLUMN' });
        const error = await store.describe(tableId, 'xy').catch((e: ArrowGpuError) => e);
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { column: 'xy' } });
        expect((error as Error).message).toMatch(/"xy".*vector/);
        store.destroy(tableId);
        await expect(store.describe(tableId, 'x')).rejects.toMatchObject({ code: 'NO_SUCH_COLUMN' });
      });
    });
  });
});
