import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

// The shipped library carries no test hook: those live in e2e/pages/test.worker.ts, which the harness
// starts by URL. This reads the built files from disk (`npm test` builds dist/ before the browser tests,
// and the global setup checks it is there), so it runs in the source project only.

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
/** Names of the test hooks, past and present, and the channel they arrive on. */
const HOOK_MARKERS = ['loseDevice', 'crashWorker', 'terminateWorker', 'testing:', 'arrow-webgpu-test-hooks'];

/** Shipped files, relative to dist/: the entry, its chunks and every type declaration. */
function shippedFiles(): string[] {
  const all = readdirSync(DIST, { recursive: true, encoding: 'utf8' });
  return all.filter(
    (file) => file === 'index.js' || /^assets[\\/][^\\/]+\.js$/.test(file) || file.endsWith('.d.ts'),
  );
}

function markersIn(text: string): string[] {
  return HOOK_MARKERS.filter((marker) => text.includes(marker));
}

test('dist/ ships no test hooks: none of loseDevice, crashWorker, terminateWorker, testing: in its JS or type declarations', () => {
  const files = shippedFiles();
  expect(files).toContain('index.js');
  expect(files).toContain('index.d.ts');
  expect(files.filter((file) => file.endsWith('.js')).length, 'the worker chunk').toBeGreaterThan(1);
  const found = files.flatMap((file) =>
    markersIn(readFileSync(join(DIST, file), 'utf8')).map((marker) => `${file}: ${marker}`),
  );
  expect(found).toEqual([]);
  // The check itself sees hooks where they are.
  expect(markersIn(readFileSync(join(ROOT, 'e2e/pages/test.worker.ts'), 'utf8'))).toContain('loseDevice');
});
