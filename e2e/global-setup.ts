import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDemoData, ensureExampleData } from '../scripts/demo-data.js';
import { ensureEveryTypeFixtures, ensureFixtures } from './fixtures.js';

export default async function globalSetup(): Promise<void> {
  if (!existsSync(join(import.meta.dirname, '../dist/index.js'))) {
    throw new Error('dist/index.js is missing: run `npm run build` before the browser tests (npm test does)');
  }
  await ensureFixtures();
  await ensureEveryTypeFixtures();
  await ensureDemoData();
  // The specs that run the README's examples load the table those examples name, /demo.arrow.
  await ensureExampleData();
}
