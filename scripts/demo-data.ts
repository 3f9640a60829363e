import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBatches } from './datasets.js';
import { type TripsSpec, tripBatches, tripsSchema } from './trips.js';

/** The demo's default data set, served as /trips.arrow. */
export const DEMO_PATH = join(import.meta.dirname, '../public/trips.arrow');

/** The URL the demo page loads on open. */
export const DEMO_URL = '/trips.arrow';

/** 4,194,304 taxi trips in 64 batches of 65,536 rows, IPC stream: ~147 MB, 35 bytes a row. */
export const DEMO_SPEC: TripsSpec = { rows: 64 * 65536, batchRows: 65536 };

/** Writes the demo data unless it exists; true when it wrote it. */
export async function ensureDemoData(): Promise<boolean> {
  const exists = await stat(DEMO_PATH).then(
    () => true,
    () => false,
  );
  if (!exists) await writeBatches(DEMO_PATH, tripsSchema(), tripBatches(DEMO_SPEC), 'stream');
  return !exists;
}
