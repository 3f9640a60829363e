import { expect, expectedColumns, test } from './support.js';
import { TEST_API_KEY } from './test-routes.js';

// The read worker (`readWorker: true`): a URL's response is fetched and read on a worker of its own,
// which moves its bytes to the loader's worker. Tables load byte for byte as when the loader's worker
// reads the response itself; request options reach the server; failures keep their codes and byte
// offsets; a cancel closes the request; a read worker that dies fails its load with WORKER_FAILED, and
// nothing leaks.

interface Connection {
  closedAt: number | null;
}

test('with the read worker, each table loads as the loader worker alone loads it, byte for byte', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async (key) => {
    const { lib, readAll } = window.harness;
    const urls: Array<[string, { method?: string; headers?: Record<string, string>; body?: string }?]> = [
      ['/data/every-type.stream'],
      ['/data/every-type.arrow'],
      ['/data/many-batches.stream'],
      ['/data/many-batches.arrow'],
      ['/data/big-16.stream'],
      ['/data/small-batches.stream'],
      ['/auth/many-batches.stream?expect=q', { method: 'POST', headers: { 'X-Api-Key': key }, body: 'q' }],
    ];
    const images: Record<string, unknown[]> = {};
    const memory: unknown[] = [];
    for (const readWorker of [false, true]) {
      const loader = await lib.createLoader({ readWorker, decodeWorkers: 0 });
      try {
        for (const [url, init] of urls) {
          for (const decodeWorkers of readWorker ? [0, 2] : [0]) {
            const table = await loader.load(url, { ...init, encodings: 'exact', decodeWorkers });
            const image = { rows: table.numRows, columns: await readAll(table) };
            images[url] = [...(images[url] ?? []), image];
            await table.destroy();
          }
        }
        await loader.trim();
        memory.push((await loader.memory()).liveBuffers);
      } finally {
        await loader.close();
      }
    }
    return { images, memory };
  }, TEST_API_KEY);
  for (const [url, [alone, ...read]] of Object.entries(result.images)) {
    expect((alone as { rows: number }).rows, url).toBeGreaterThan(0);
    expect(read, url).toHaveLength(2);
    for (const image of read) expect(image, url).toEqual(alone);
  }
  expect(result.memory, 'GPU buffers left after every table was destroyed').toEqual([0, 0]);
});

test('with the read worker, small batches load as their source holds them, whether or not decode workers take them', async ({
  harnessPage,
}) => {
  // Each of the read worker's chunks holds many batches (the first one the dictionary too): a chunk goes
  // back to the read worker once its batches are uploaded, while the batches after them still load.
  const fixture = 'small-batches.stream';
  const result = await harnessPage.evaluate(async (url) => {
    const { lib, readAll } = window.harness;
    const loader = await lib.createLoader({ readWorker: true });
    try {
      const digests = [];
      for (const decodeWorkers of [0, 2]) {
        const table = await loader.load(url, { decodeWorkers });
        digests.push(await readAll(table));
        await table.destroy();
      }
      return digests;
    } finally {
      await loader.close();
    }
  }, `/data/${fixture}`);
  for (const digests of result) expect(digests).toEqual(expectedColumns(fixture));
});

test('with the read worker, failures keep their codes and offsets, a cancel closes the request, and the loader goes on', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle } = window.harness;
    const loader = await lib.createLoader({ readWorker: true });
    try {
      await (await loader.load('/data/many-batches.stream')).destroy();
      const before = (await loader.memory()).liveBuffers;
      const status = await settle(loader.load('/fault/status/404'));
      const cut = await settle(loader.load('/fault/cut/many-batches.stream?after=300000'));
      const stalled = await settle(
        loader.load('/fault/stall/many-batches.stream?after=300000', { timeoutMs: 500 }),
      );
      const conn = `read-worker-${Math.random()}`;
      const controller = new AbortController();
      const loading = settle(
        loader.load(`/fault/stall/big-16.stream?after=6000000&conn=${conn}`, {
          signal: controller.signal,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      controller.abort();
      const aborted = await loading;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const connection: Connection = await (await fetch(`/connections/${conn}`)).json();
      const after = (await loader.memory()).liveBuffers;
      const again = await loader.load('/data/many-batches.stream');
      const rows = again.numRows;
      await again.destroy();
      const strip = ({ value: _, ...outcome }: { value?: unknown }) => outcome;
      return {
        ...{ status: strip(status), cut: strip(cut), stalled: strip(stalled), aborted: strip(aborted) },
        ...{ connection, before, after, rows },
      };
    } finally {
      await loader.close();
    }
  });
  expect(result.status).toMatchObject({ ok: false, code: 'HTTP_STATUS', details: { status: 404 } });
  expect(result.cut).toMatchObject({ ok: false, code: 'NETWORK', details: { byteOffset: 300000 } });
  expect(result.stalled).toMatchObject({ ok: false, code: 'NETWORK', details: { byteOffset: 300000 } });
  expect(result.aborted).toMatchObject({ ok: false, code: 'ABORTED' });
  expect(result.connection.closedAt, 'the cancelled request was left open').not.toBeNull();
  expect(result.after, 'GPU buffers of the failed loads').toBe(result.before);
  expect(result.rows).toBe(60_007);
});

test('a read worker that dies fails its load with WORKER_FAILED; nothing leaks, the next load starts another', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { settle, testLoader } = window.harness;
    const hooks = await testLoader({ readWorker: true });
    const { loader } = hooks;
    try {
      await (await loader.load('/data/many-batches.stream')).destroy();
      const before = (await loader.memory()).liveBuffers;
      const loading = settle(loader.load('/fault/stall/many-batches.stream?after=300000'));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await hooks.crashReadWorker();
      const { value: _, ...failed } = await loading;
      const after = (await loader.memory()).liveBuffers;
      const again = await loader.load('/data/many-batches.stream');
      const rows = again.numRows;
      await again.destroy();
      return { failed, before, after, rows };
    } finally {
      await loader.close();
    }
  });
  expect(result.failed).toMatchObject({ ok: false, code: 'WORKER_FAILED' });
  expect(result.failed.message).toContain('/fault/stall/many-batches.stream');
  expect(result.after).toBe(result.before);
  expect(result.rows).toBe(60_007);
});
