import { join } from 'node:path';
import { type DatasetSpec, ensureDataset, MIXED_COLUMNS } from './datasets.js';

/** The demo's default data set, served as /demo.arrow. */
export const DEMO_PATH = join(import.meta.dirname, '../public/demo.arrow');

/** ~72 MiB: 4.2 M rows of four mixed numeric columns in 64 batches, 1% nulls in `y`. */
export const DEMO_SPEC: DatasetSpec = {
  rows: 64 * 65536,
  batchRows: 65536,
  format: 'stream',
  columns: { ...MIXED_COLUMNS },
  nulls: { y: 0.01 },
};

/** Writes the demo data unless it exists; true when it wrote it. */
export function ensureDemoData(): Promise<boolean> {
  return ensureDataset(DEMO_PATH, DEMO_SPEC);
}
