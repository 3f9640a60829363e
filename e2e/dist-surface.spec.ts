import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** Strings of apache-arrow's IPC reader (class names kept by the bundler, the file magic). */
const ARROW_MARKERS = ['RecordBatchReader', 'MessageReader', 'ARROW1'];

/** The relative modules a built file imports: statically (`import … from`, `export … from`) and dynamically. */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const text = readFileSync(join(DIST, file), 'utf8');
  const resolve = (spec: string) => join(dirname(file), spec);
  const statics = [
    ...text.matchAll(/(?:^|[;\n}])\s*(?:import|export)\s*(?:[^'"();]*?\sfrom\s*)?["'](\.[^"']+)["']/g),
  ];
  const dynamics = [...text.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g)];
  return {
    static: statics.map((m) => resolve(m[1] as string)),
    dynamic: dynamics.map((m) => resolve(m[1] as string)),
  };
}

test('dist/index.js loads apache-arrow only on demand: neither it nor a chunk it imports statically holds it; readRows (and a loader given a device) imports it', () => {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const next of importsOf(file).static) visit(next);
  };
  visit('index.js');
  const arrowIn = (file: string) =>
    ARROW_MARKERS.filter((m) => readFileSync(join(DIST, file), 'utf8').includes(m));
  expect([...reached].flatMap((file) => arrowIn(file).map((m) => `${file}: ${m}`))).toEqual([]);
  const lazy = [...new Set([...reached].flatMap((file) => importsOf(file).dynamic))];
  // readRows's apache-arrow, and the caller's side of a loader given a device (its queries and reads).
  expect(lazy.length, 'the chunks readRows and createLoader({ device }) import').toBe(2);
  const withStatics = (file: string): string[] => [file, ...importsOf(file).static.flatMap(withStatics)];
  for (const file of lazy) {
    expect(withStatics(file).flatMap(arrowIn), `${file} and what it imports`).toEqual(
      expect.arrayContaining(ARROW_MARKERS),
    );
  }
  // The page's entry stays small: the client, the protocol and Comlink.
  expect(statSync(join(DIST, 'index.js')).size).toBeLessThan(64 << 10);
});
