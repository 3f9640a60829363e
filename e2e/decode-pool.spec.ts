import { expect, test } from './support.js';

// The pool of decode workers in the browser: the loader's worker starts them (Web Workers, from the
// bundled decode worker when the library is built) and the tables they load read back byte for byte
// as those loaded by the loader's worker alone; a decode worker that dies fails its load with
// WORKER_FAILED, frees every GPU buffer of it, and leaves the loader usable.

const CASES: ReadonlyArray<[string, { encodings?: 'exact' }]> = [
  // Every encoding, nulls everywhere, odd batch sizes, a dictionary replaced every batch.
  ['/data/every-type.stream', { encodings: 'exact' }],
  ['/data/every-type.arrow', {}],
  ['/data/many-batches.stream', {}],
  ['/data/run-end.arrow', {}],
  ['/data/with-strings.stream', {}],
];

test('2 and 4 decode workers load each table as the loader worker alone does, byte for byte', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async (cases) => {
    const { lib, readAll } = window.harness;
    const loader = await lib.createLoader({ decodeWorkers: 0 });
    const out: Record<string, unknown[]> = {};
    try {
      for (const [url, options] of cases) {
        out[url] = [];
        for (const decodeWorkers of [0, 2, 4]) {
          const table = await loader.load(url, { ...options, decodeWorkers });
          const dictionaries: Record<string, unknown> = {};
          for (const column of table.columns) {
            if (column.encoding === 'dictionary') {
              dictionaries[column.name] = await table.dictionary(column.name);
            }
          }
          out[url].push({ rows: table.numRows, columns: await readAll(table), dictionaries });
          await table.destroy();
        }
      }
      await loader.trim(); // the staging ring's buffers, kept between loads
      return { out, memory: await loader.memory() };
    } finally {
      await loader.close();
    }
  }, CASES);
  for (const [url] of CASES) {
    const [alone, ...pooled] = result.out[url] as unknown[];
    expect((alone as { rows: number }).rows, url).toBeGreaterThan(0);
    for (const image of pooled) expect(image, url).toEqual(alone);
  }
  expect(result.memory.liveBuffers, 'GPU buffers left after every table was destroyed').toBe(0);
});

test('a decode worker that dies fails its load with WORKER_FAILED naming the batch; nothing leaks, the loader goes on', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { settle, readAll, testLoader } = window.harness;
    const hooks = await testLoader();
    const { loader } = hooks;
    try {
      const clean = await loader.load('/data/many-batches.stream', { decodeWorkers: 2 });
      const expected = await readAll(clean);
      await clean.destroy();
      const before = await loader.memory();
      // The bytes stop partway; meanwhile one of the load's decode workers throws.
      const loading = settle(
        loader.load('/fault/stall/many-batches.stream?after=300000', { decodeWorkers: 2 }),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      await hooks.crashDecodeWorker();
      const failed = await loading;
      const after = await loader.memory();
      const again = await loader.load('/data/many-batches.stream', { decodeWorkers: 2 });
      const reloaded = await readAll(again);
      await again.destroy();
      return { failed, before, after, same: JSON.stringify(reloaded) === JSON.stringify(expected) };
    } finally {
      await loader.close();
    }
  });
  expect(result.failed.ok).toBe(false);
  expect(result.failed.code, result.failed.message ?? '').toBe('WORKER_FAILED');
  expect(result.failed.message).toMatch(/decode worker died at batch \d+ of .*many-batches\.stream/);
  expect(result.after.liveBuffers).toBe(result.before.liveBuffers);
  expect(result.after.liveBytes).toBe(result.before.liveBytes);
  expect(result.same, 'the next load, on a new decode worker, reads back as before').toBe(true);
});
