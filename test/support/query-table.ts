import { expect } from 'vitest';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import { TableStore } from '../../src/core/service/table-store.js';
import type { ColumnSummary } from '../../src/types.js';
import { whole } from './byte-sources.js';
import type { RowValue } from './predicates.js';
import { QUERY_ENCODINGS, type QueryData, type ReferenceSummary } from './query-data.js';

/** A value as the GPU holds it: a number, a bigint, 0/1 for bools, a dictionary code, or null. */
export type HeldValue = number | bigint | null;

/** A table of `queryData` loaded into a store, with the values its GPU buffers hold. */
export interface QueryTable {
  store: TableStore;
  tableId: number;
  data: QueryData;
  /**
   * Each column's values as the GPU holds them, as `describe` reports them: numbers, bigints, 0/1,
   * dictionary codes, `f32-relative` values rounded (the f32 plus the offset).
   */
  reference: Record<string, HeldValue[]>;
  /** The same, as predicates compare them: booleans as booleans and dictionary values as their text. */
  values: Record<string, RowValue[]>;
}

/** Loads `data` (columns of `chunkBytes` bytes at most) into a new store, runs `test`, destroys the table. */
export async function withQueryTable<T>(
  context: GpuContext,
  data: QueryData,
  test: (table: QueryTable) => Promise<T>,
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
    const stored = (name: string, v: RowValue): RowValue =>
      name === 'ts' && typeof v === 'number' ? Math.fround(v - offset) + offset : v;
    const values = Object.fromEntries(
      Object.entries(data.values).map(([name, vs]) => [name, vs.map((v) => stored(name, v))]),
    );
    const reference = Object.fromEntries(
      Object.entries(values).map(([name, vs]) => [
        name,
        vs.map((v) => {
          if (typeof v === 'boolean') return v ? 1 : 0;
          if (typeof v === 'string') return dictionary.indexOf(v);
          return v as number | bigint | null;
        }),
      ]),
    );
    return await test({ store, tableId, data, reference, values });
  } finally {
    store.destroy(tableId);
  }
}

/** Float sums: f32 per thread then a tree (README's bound), f64 values first truncated to 24 bits. */
function floatTolerance(name: string, ref: ReferenceSummary, offsetTerms = 0): number {
  const u = 2 ** -24;
  return (64 * u + (name === 'f64' ? 2 * u : 0)) * ref.magnitude + offsetTerms;
}

/** Expects a `describe` of column `name` of `queryData` to agree with the CPU's summary. */
export function expectSummary(name: string, got: ColumnSummary, ref: ReferenceSummary, label = name): void {
  const what = `describe(${label})`;
  expect({ rows: got.rows, count: got.count, nulls: got.nullCount, nans: got.nanCount }, what).toEqual({
    rows: ref.rows,
    count: ref.count,
    nulls: ref.nullCount,
    nans: ref.nanCount,
  });
  expect(got.min, `${what}.min`).toEqual(ref.min);
  expect(got.max, `${what}.max`).toEqual(ref.max);
  if (name === 'city') expect(got.sum).toBeNull();
  else if (['i32', 'u32', 'i64', 'u64'].includes(name))
    expect(got.sum, `${what}.sum`).toBe(BigInt(ref.sum as number));
  else if (name === 'flag' || !Number.isFinite(ref.sum as number))
    expect(got.sum, `${what}.sum`).toBe(ref.sum);
  else {
    const tolerance = floatTolerance(name, ref, name === 'ts' ? 1e-3 * ref.count : 0);
    expect(Math.abs((got.sum as number) - (ref.sum as number)), `${what}.sum`).toBeLessThanOrEqual(tolerance);
  }
  if (got.count === 0 || got.sum === null) expect(got.mean).toBeNull();
  else expect(got.mean).toBe(Number(got.sum) / got.count);
}
