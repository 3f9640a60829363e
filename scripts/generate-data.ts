// Writes the demo's default data set, public/demo.arrow, if it is absent.
import { ensureDataset, MIXED_COLUMNS } from './datasets.js';

/** ~72 MiB: 4.2 M rows of four mixed numeric columns in 64 batches. */
export const DEMO = {
  path: 'public/demo.arrow',
  spec: { rows: 64 * 65536, batchRows: 65536, format: 'stream', columns: MIXED_COLUMNS, nulls: { y: 0.01 } },
} as const;

const made = await ensureDataset(DEMO.path, {
  ...DEMO.spec,
  columns: { ...DEMO.spec.columns },
  nulls: { ...DEMO.spec.nulls },
});
console.log(made ? `wrote ${DEMO.path}` : `${DEMO.path} exists`);
