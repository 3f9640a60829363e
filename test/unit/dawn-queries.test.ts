import { Field, FixedSizeList, Float32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ArrowGpuError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import { TableStore } from '../../src/core/service/table-store.js';
import type { ColumnSummary } from '../../src/types.js';
import { whole } from '../support/byte-sources.js';
import { withContext } from '../support/dawn.js';
import {
  QUERY_ENCODINGS,
  type QueryData,
  queryData,
  type ReferenceSummary,
  referenceSummary,
} from '../support/query-data.js';

// Queries on Dawn: every describe, histogram and filter result compared with the same computation done
// on the CPU over the values the table was made from, on columns split into many chunks.

const COLUMNS = ['f32', 'f64', 'i32', 'u32', 'i64', 'u64', 'flag', 'city', 'ts', 'empty'];

/** A loaded table in a store, with what the CPU knows of its values. */
interface Loaded {
  store: TableStore;
  tableId: number;
  data: QueryData;
  /** Each column's values as the GPU holds them: numbers, bigints, 0/1, dictionary codes, f32-relative rounded. */
  reference: Record<string, Array<number | bigint | null>>;
}

async function withTable<T>(
  context: GpuContext,
  data: QueryData,
  test: (loaded: Loaded) => Promise<T>,
  chunkBytes = 512,
): Promise<T> {
  const table = await runPipeline({
    gpu: context,
    source: whole(data.bytes),
    url: 'test://queries',
    bytesTotal: data.bytes.byteLength,
    encodings: data.values.ts ? QUERY_ENCODINGS : 'auto',
    upload: 'writeBuffer',
    chunkBytes,
  });
  const store = new TableStore();
  const { tableId, columns } = store.add(table, context);
  try {
    const offset = Number(columns.find((c) => c.name === 'ts')?.offset ?? 0);
    const dictionary = data.values.city && data.rows > 0 ? store.dictionary(tableId, 'city') : [];
    const reference = Object.fromEntries(
      Object.entries(data.values).map(([name, values]) => [
        name,
        values.map((v) => {
          if (v === null) return null;
          if (typeof v === 'boolean') return v ? 1 : 0;
          if (typeof v === 'string') return dictionary.indexOf(v);
          if (name === 'ts') return Math.fround((v as number) - offset) + offset;
          return v;
        }),
      ]),
    );
    return await test({ store, tableId, data, reference });
  } finally {
    store.destroy(tableId);
  }
}

/** Float sums: f32 per thread then a tree (README's bound), f64 values first truncated to 24 bits. */
function floatTolerance(name: string, ref: ReferenceSummary, offsetTerms = 0): number {
  const u = 2 ** -24;
  return (64 * u + (name === 'f64' ? 2 * u : 0)) * ref.magnitude + offsetTerms;
}

function expectSummary(name: string, got: ColumnSummary, ref: ReferenceSummary): void {
  const label = `describe(${name})`;
  expect({ rows: got.rows, count: got.count, nulls: got.nullCount, nans: got.nanCount }, label).toEqual({
    rows: ref.rows,
    count: ref.count,
    nulls: ref.nullCount,
    nans: ref.nanCount,
  });
  expect(got.min, `${label}.min`).toEqual(ref.min);
  expect(got.max, `${label}.max`).toEqual(ref.max);
  if (name === 'city') expect(got.sum).toBeNull();
  else if (['i32', 'u32', 'i64', 'u64'].includes(name))
    expect(got.sum, `${label}.sum`).toBe(BigInt(ref.sum as number));
  else if (name === 'flag' || !Number.isFinite(ref.sum as number))
    expect(got.sum, `${label}.sum`).toBe(ref.sum);
  else {
    const tolerance = floatTolerance(name, ref, name === 'ts' ? 1e-3 * ref.count : 0);
    expect(Math.abs((got.sum as number) - (ref.sum as number)), `${label}.sum`).toBeLessThanOrEqual(
      tolerance,
    );
  }
  if (got.count === 0 || got.sum === null) expect(got.mean).toBeNull();
  else expect(got.mean).toBe(Number(got.sum) / got.count);
}

describe('describe', () => {
  for (const rows of [1000, 1, 0]) {
    it(`matches the CPU on every column of ${rows} rows spread over many chunks`, async () => {
      await withContext((context) =>
        withTable(context, queryData(rows), async ({ store, tableId, reference }) => {
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
      await withTable(context, data, async ({ store, tableId }) => {
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
