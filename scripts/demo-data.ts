import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type DatasetSpec, ensureDataset, MIXED_COLUMNS, writeBatches } from './datasets.js';
import { type TripsSpec, tripBatches, tripsSchema } from './trips.js';

/** The demo page's default data set, served as /trips.arrow. */
export const DEMO_PATH = join(import.meta.dirname, '../public/trips.arrow');

/** 4,194,304 taxi trips in 64 batches of 65,536 rows, IPC stream: ~147 MB, 35 bytes a row. */
export const DEMO_SPEC: TripsSpec = { rows: 64 * 65536, batchRows: 65536 };

/** The README's examples' table, served as /demo.arrow. */
export const EXAMPLES_PATH = join(import.meta.dirname, '../public/demo.arrow');

/** ~72 MiB: 4.2 M rows of four mixed numeric columns (x, y, id, kind) in 64 batches, 1% nulls in `y`. */
export const EXAMPLES_SPEC: DatasetSpec = {
  rows: 64 * 65536,
  batchRows: 65536,
  format: 'stream',
  columns: { ...MIXED_COLUMNS },
  nulls: { y: 0.01 },
};

/** Writes the trips unless they exist; true when it wrote them. */
export async function ensureDemoData(): Promise<boolean> {
  const exists = await stat(DEMO_PATH).then(
    () => true,
    () => false,
  );
  if (!exists) await writeBatches(DEMO_PATH, tripsSchema(), tripBatches(DEMO_SPEC), 'stream');
  return !exists;
}

/** Writes the README examples' table unless it exists; true when it wrote it. */
export function ensureExampleData(): Promise<boolean> {
  return ensureDataset(EXAMPLES_PATH, EXAMPLES_SPEC);
}
