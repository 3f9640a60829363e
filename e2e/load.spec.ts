import type { ColumnDigest } from './pages/harness.js';
import { expect, expectedColumns, fixtureRows, test } from './support.js';

const FORMATS = ['one-batch.stream', 'one-batch.arrow', 'many-batches.stream', 'many-batches.arrow'] as const;

for (const fixture of FORMATS) {
  for (const upload of ['staging', 'writeBuffer'] as const) {
    test(`${fixture} with ${upload}: every column and validity bitmap read back equals the source byte for byte`, async ({
      harnessPage,
    }) => {
      const result = await harnessPage.evaluate(
        async ({ fixture, upload }) => {
          const loader = await window.harness.lib.createLoader({ upload });
          try {
            const before = await loader.memory();
            const table = await loader.load(`/data/${fixture}`);
            const digests = await window.harness.readAll(table);
            const { numRows, columns, stats } = table;
            await table.destroy();
            await loader.trim();
            const memory = await loader.memory();
            return { numRows, columns, stats, digests, before, memory };
          } finally {
            await loader.close();
          }
        },
        { fixture, upload },
      );
      expect(result.numRows).toBe(fixtureRows(fixture));
      expect(result.stats.upload).toBe(upload);
      const expected = expectedColumns(fixture);
      expect(result.digests).toEqual(expected);
      expect(result.columns.map((c) => [c.name, c.gpuType, c.byteLength])).toEqual(
        expected.map((e: ColumnDigest) => [e.name, e.gpuType, e.length * 4]),
      );
      expect(result.columns.find((c) => c.nullCount > 0)).toBeDefined();
      // Once the table is destroyed and the staging ring trimmed, the worker holds what it held before.
      expect([result.memory.liveBuffers, result.memory.liveBytes]).toEqual([
        result.before.liveBuffers,
        result.before.liveBytes,
      ]);
    });
  }
}

test('a load of 61 batches never has more than 2 batches queued or 2 staging buffers in flight', async ({
  harnessPage,
}) => {
  const stats = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      return (await loader.load('/data/many-batches.stream')).stats;
    } finally {
      await loader.close();
    }
  });
  expect(stats.batches).toBe(61);
  expect(stats.maxQueueDepth).toBeGreaterThanOrEqual(1);
  expect(stats.maxQueueDepth).toBeLessThanOrEqual(2);
  expect(stats.maxUploadsInFlight).toBeGreaterThanOrEqual(1);
  expect(stats.maxUploadsInFlight).toBeLessThanOrEqual(2);
  expect(stats.bytesFetched).toBeGreaterThan(0);
});

test('a columns projection uploads only the named columns, in that order, and skips unsupported ones', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      const table = await loader.load('/data/with-strings.stream', { columns: ['b', 'a'] });
      return { columns: table.columns, stats: table.stats, digests: await window.harness.readAll(table) };
    } finally {
      await loader.close();
    }
  });
  expect(result.columns.map((c) => c.name)).toEqual(['b', 'a']);
  expect(result.digests).toEqual(expectedColumns('with-strings.stream', ['b', 'a']));
  expect(result.stats.bytesUploaded).toBe(fixtureRows('with-strings.stream') * 2 * 4);
});

test('onProgress reports bytes, batches and rows as the load goes, and once at the end', async ({
  harnessPage,
}) => {
  const reports = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    const seen: Array<import('../src/index.js').LoadProgress> = [];
    try {
      await loader.load('/data/many-batches.stream?throttle=4000000', { onProgress: (p) => seen.push(p) });
      await new Promise((resolve) => setTimeout(resolve, 100));
      return seen;
    } finally {
      await loader.close();
    }
  });
  expect(reports.length).toBeGreaterThan(2);
  const last = reports[reports.length - 1];
  expect(last?.rows).toBe(fixtureRows('many-batches.stream'));
  expect(last?.batches).toBe(61);
  expect(last?.bytesFetched).toBe(last?.bytesTotal);
  for (let i = 1; i < reports.length; i++) {
    expect(reports[i]?.bytesFetched).toBeGreaterThanOrEqual(reports[i - 1]?.bytesFetched ?? 0);
    expect(reports[i]?.elapsedMs).toBeGreaterThanOrEqual(reports[i - 1]?.elapsedMs ?? 0);
  }
});

test('aborting halfway rejects with AbortError, frees the load’s buffers, and the loader loads the next file', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      const before = await loader.memory();
      const controller = new AbortController();
      let abortedAt = 0;
      const error = await loader
        .load('/data/big-128.stream?throttle=200000000', {
          signal: controller.signal,
          onProgress: (p) => {
            if (!controller.signal.aborted && p.bytesTotal && p.bytesFetched > p.bytesTotal / 3) {
              abortedAt = p.bytesFetched / p.bytesTotal;
              controller.abort();
            }
          },
        })
        .then(
          () => null,
          (e: Error & { code?: string }) => ({ name: e.name, code: e.code, message: e.message }),
        );
      const after = await loader.memory();
      const next = await loader.load('/data/one-batch.stream');
      return { error, abortedAt, before, after, nextRows: next.numRows };
    } finally {
      await loader.close();
    }
  });
  expect(result.error).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
  expect(result.abortedAt).toBeGreaterThan(0.3);
  expect(result.abortedAt).toBeLessThan(1);
  expect(result.after.liveBuffers).toBeLessThanOrEqual(Math.max(result.before.liveBuffers, 2));
  expect(result.nextRows).toBe(1001);
});

test('the main thread has no long task over 50 ms while 128 MiB load', async ({ harnessPage }) => {
  const result = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      const stop = window.harness.watchLongTasks();
      const table = await loader.load('/data/big-128.stream', { onProgress: () => {} });
      const longTasks = stop();
      return { longTasks, rows: table.numRows, bytes: table.stats.bytesFetched, ms: table.stats.msTotal };
    } finally {
      await loader.close();
    }
  });
  expect(result.bytes).toBeGreaterThanOrEqual(128 << 20);
  expect(result.longTasks.count, `longest ${result.longTasks.longestMs} ms`).toBe(0);
});

test('bad input rejects with a typed error naming the URL or column, leaks nothing, and leaves the loader usable', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    const attempt = (url: string, options?: { columns?: string[] }) =>
      loader.load(url, options).then(
        () => null,
        (e: Error & { code?: string; details?: unknown }) => ({
          name: e.name,
          code: e.code,
          message: e.message,
          details: e.details,
          isArrowGpuError: e instanceof window.harness.lib.ArrowGpuError,
        }),
      );
    try {
      const before = await loader.memory();
      const notFound = await attempt('/fault/status/404');
      const html = await attempt('/fault/html');
      const noColumn = await attempt('/data/one-batch.stream', { columns: ['f32', 'nope'] });
      const unsupported = await attempt('/data/with-list.stream');
      const after = await loader.memory();
      const ok = await loader.load('/data/one-batch.stream');
      return {
        before,
        after,
        notFound,
        html,
        noColumn,
        unsupported,
        okRows: ok.numRows,
        origin: location.origin,
      };
    } finally {
      await loader.close();
    }
  });
  expect(result.notFound).toMatchObject({
    code: 'HTTP_STATUS',
    isArrowGpuError: true,
    details: { status: 404 },
  });
  expect(result.notFound?.message).toContain(`${result.origin}/fault/status/404`);
  expect(result.html).toMatchObject({ code: 'NOT_ARROW', isArrowGpuError: true });
  expect(result.html?.message).toContain('/fault/html');
  expect(result.noColumn).toMatchObject({
    code: 'NO_SUCH_COLUMN',
    name: 'ColumnError',
    details: { column: 'nope' },
  });
  expect(result.noColumn?.message).toContain('"nope"');
  expect(result.unsupported).toMatchObject({
    code: 'UNSUPPORTED_TYPE',
    name: 'UnsupportedTypeError',
    details: { column: 'l', arrowType: 'List<Int32>', columns: ['l'] },
  });
  expect(result.after).toEqual(result.before);
  expect(result.okRows).toBe(1001);
});

test('adapterInfo describes the WebGPU adapter and its buffer limits', async ({ harnessPage }) => {
  const info = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      return await loader.adapterInfo();
    } finally {
      await loader.close();
    }
  });
  expect(typeof info.vendor).toBe('string');
  expect(typeof info.isFallbackAdapter).toBe('boolean');
  expect(info.maxBufferSize).toBeGreaterThanOrEqual(256 << 20);
});
