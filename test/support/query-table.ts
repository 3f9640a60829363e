import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import { TableStore } from '../../src/core/service/table-store.js';
import { whole } from './byte-sources.js';
import { QUERY_ENCODINGS, type QueryData } from './query-data.js';

/** A value as the GPU holds it: a number, a bigint, 0/1 for bools, a dictionary code, or null. */
export type HeldValue = number | bigint | null;

/** A table of query data loaded into a store, with what the CPU knows of its values. */
export interface QueryTable {
  store: TableStore;
  tableId: number;
  data: QueryData;
  /** Each column's values as the GPU holds them (f32-relative rounded as stored, strings as codes). */
  reference: Record<string, HeldValue[]>;
}

/**
 * Loads `data` on `context` into a new store (columns split into chunks of `chunkBytes`), runs `test`,
 * and destroys the table whatever happens.
 */
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
    const reference = Object.fromEntries(
      Object.entries(data.values).map(([name, values]) => [
        name,
        values.map((v): HeldValue => {
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
