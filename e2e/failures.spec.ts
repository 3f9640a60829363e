import type { CDPSession, Page } from '@playwright/test';
import { FlatbufferView } from '../src/core/ipc/flatbuffer-view.js';
import { DEFAULT_READ_AHEAD_BYTES } from '../src/core/pipeline/load.js';
import type { Loader, LoadProgress, LoadStats } from '../src/index.js';
import { FIXTURES } from './fixtures.js';
import type { Settled } from './pages/harness.js';
import { expect, expectedColumns, expectedColumnsOf, fixtureBytes, fixtureRows, test } from './support.js';

// Every fault must end in a typed rejection, with every GPU buffer of the failed load destroyed:
// `loader.memory()` is compared before and after each one. Loaders are warmed with one clean load of
// many batches first, so that both buffers of the staging ring they share (created on first use, then
// kept) are in the baseline.

/** What bad bytes may be rejected with through the whole loader. */
const BAD_BYTES_CODES = [
  'NOT_ARROW',
  'TRUNCATED',
  'CORRUPT',
  'UNSUPPORTED_TYPE',
  'NO_SUCH_COLUMN',
  'SCHEMA_MISMATCH',
  'LIMIT_EXCEEDED',
  'GPU_OUT_OF_MEMORY',
];

/** The GPU buffers alive in a loader's worker. */
function buffersOf(memory: { liveBuffers: number; liveBytes: number }) {
  return { liveBuffers: memory.liveBuffers, liveBytes: memory.liveBytes };
}

/** A settled load with its table left out (it does not cross back to the spec). */
type Outcome = Omit<Settled<unknown>, 'value'> & { after: { liveBuffers: number; liveBytes: number } };

/** Byte positions in a stream fixture, for faults made by flipping bits (the /fault/xor route). */
function streamLayout(fixture: string) {
  const bytes = fixtureBytes(fixture);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const schemaLength = view.getInt32(4, true);
  const schemaFb = new FlatbufferView(bytes.subarray(8, 8 + schemaLength));
  const schema = schemaFb.indirect(schemaFb.field(schemaFb.root(), 2) as number);
  const batchAt = 8 + schemaLength; // the schema message has no body
  const batchLength = view.getInt32(batchAt + 4, true);
  const metadataAt = batchAt + 8;
  const fb = new FlatbufferView(bytes.subarray(metadataAt, metadataAt + batchLength));
  const bodyLengthAt = fb.field(fb.root(), 3) as number;
  const batch = fb.indirect(fb.field(fb.root(), 2) as number);
  const buffers = fb.vector(fb.field(batch, 2) as number, 16);
  const bodyStart = metadataAt + batchLength;
  return {
    bytes,
    schemaMetadata: [8, 8 + schemaLength] as const,
    /** The u32 count of the schema's fields vector. */
    fieldCount: 8 + schemaFb.indirect(schemaFb.field(schema, 1) as number),
    /** The first record batch's i64 body length. */
    bodyLength: metadataAt + bodyLengthAt,
    /** The i64 length of the first batch's buffer 1 (the first column's values). */
    bufferLength: metadataAt + buffers.start + 16 + 8,
    bodyMiddle: bodyStart + Math.floor(fb.i64(bodyLengthAt) / 2),
  };
}

test('network faults reject with HTTP_STATUS or NETWORK naming the URL, free every GPU buffer, and leave the loader usable', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle } = window.harness;
    const loader = await lib.createLoader();
    try {
      await (await loader.load('/data/many-batches.stream')).destroy();
      const before = await loader.memory();
      const cases: Record<string, [string, { timeoutMs?: number }]> = {
        notFound: ['/fault/status/404', {}],
        serverError: ['/fault/status/500', {}],
        cutMidBody: ['/fault/cut/many-batches.stream?after=300000', {}],
        stallMidBody: ['/fault/stall/many-batches.stream?after=300000', { timeoutMs: 400 }],
        stallBeforeHeaders: ['/fault/hang', { timeoutMs: 400 }],
        crossOriginWithoutCors: [`http://127.0.0.1:${location.port}/fault/nocors/one-batch.stream`, {}],
      };
      const outcomes: Record<string, Outcome> = {};
      for (const [name, [url, options]] of Object.entries(cases)) {
        const { value: _, ...outcome } = await settle(loader.load(url, options));
        outcomes[name] = { ...outcome, after: await loader.memory() };
      }
      // The same origin with CORS headers loads: the failure above is CORS, not an unreachable server.
      const crossOriginWithCors = await loader.load(
        `http://127.0.0.1:${location.port}/data/one-batch.stream`,
      );
      return { before, outcomes, crossOriginRows: crossOriginWithCors.numRows, origin: location.origin };
    } finally {
      await loader.close();
    }
  });
  const o = result.outcomes;
  for (const [name, outcome] of Object.entries(o)) {
    expect(outcome.isArrowGpuError, `${name}: ${outcome.message}`).toBe(true);
    expect(buffersOf(outcome.after), `${name} leaked GPU buffers`).toEqual(buffersOf(result.before));
  }
  expect(o.notFound).toMatchObject({ code: 'HTTP_STATUS', details: { status: 404 } });
  expect(o.notFound?.message).toContain(`${result.origin}/fault/status/404`);
  expect(o.serverError).toMatchObject({ code: 'HTTP_STATUS', details: { status: 500 } });
  expect(o.cutMidBody).toMatchObject({ code: 'NETWORK', name: 'NetworkError' });
  expect(o.cutMidBody?.message).toContain('/fault/cut/many-batches.stream');
  expect(o.cutMidBody?.details?.byteOffset).toBeGreaterThan(0);
  expect(o.stallMidBody).toMatchObject({ code: 'NETWORK', details: { byteOffset: 300000 } });
  expect(o.stallMidBody?.message).toMatch(/stalled: no bytes for 400 ms/);
  expect(o.stallBeforeHeaders).toMatchObject({ code: 'NETWORK', details: { byteOffset: 0 } });
  expect(o.stallBeforeHeaders?.message).toMatch(/stalled/);
  expect(o.stallBeforeHeaders?.ms).toBeLessThan(3000);
  expect(o.crossOriginWithoutCors).toMatchObject({ code: 'NETWORK' });
  const port = new URL(result.origin).port;
  expect(o.crossOriginWithoutCors?.message).toContain(
    `http://127.0.0.1:${port}/fault/nocors/one-batch.stream`,
  );
  expect(o.crossOriginWithoutCors?.message).toContain('CORS');
  expect(result.crossOriginRows).toBe(1001);
});

test('an AbortSignal cancels a load already aborted, before headers, mid-body and mid-upload, with AbortError and nothing leaked', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async (rows) => {
    const { lib, settle } = window.harness;
    const loader = await lib.createLoader();
    try {
      // The staging ring's buffers go first: their sizes depend on how far a load got, not on a leak.
      const memory = async () => {
        await loader.trim();
        return loader.memory();
      };
      await (await loader.load('/data/big-16.stream')).destroy();
      const before = await memory();
      /** Loads `url`, aborting when `when` says so; returns how it ended and how long after the abort. */
      const abortWhen = async (url: string, when: 'now' | 'later' | ((p: LoadProgress) => boolean)) => {
        const controller = new AbortController();
        let abortedAt = 0;
        let progressAtAbort = null as LoadProgress | null;
        const abort = () => {
          abortedAt = performance.now();
          controller.abort();
        };
        if (when === 'now') abort();
        if (when === 'later') setTimeout(abort, 300);
        const { value: _, ...outcome } = await settle(
          loader.load(url, {
            signal: controller.signal,
            onProgress: (p) => {
              if (typeof when === 'function' && !controller.signal.aborted && when(p)) {
                progressAtAbort = p;
                abort();
              }
            },
          }),
        );
        const msAfterAbort = performance.now() - abortedAt;
        return { ...outcome, msAfterAbort, progressAtAbort, after: await memory() };
      };
      const outcomes = {
        alreadyAborted: await abortWhen('/data/one-batch.stream', 'now'),
        beforeHeaders: await abortWhen('/fault/hang', 'later'),
        midBody: await abortWhen('/fault/stall/many-batches.stream?after=300000', (p) => p.bytesFetched > 0),
        midUpload: await abortWhen('/data/big-128.stream', (p) => p.rows > 0 && p.rows < rows),
      };
      const next = await loader.load('/data/one-batch.stream');
      return { before, outcomes, nextRows: next.numRows };
    } finally {
      await loader.close();
    }
  }, fixtureRows('big-128.stream'));
  for (const [name, outcome] of Object.entries(result.outcomes)) {
    expect(outcome, name).toMatchObject({
      ok: false,
      code: 'ABORTED',
      name: 'AbortError',
      isArrowGpuError: true,
    });
    expect(outcome.msAfterAbort, `${name}: rejected ${outcome.msAfterAbort} ms after the abort`).toBeLessThan(
      1000,
    );
    expect(buffersOf(outcome.after), `${name} leaked GPU buffers`).toEqual(buffersOf(result.before));
  }
  expect(result.outcomes.alreadyAborted.ms).toBeLessThan(50);
  expect(result.outcomes.midBody.progressAtAbort?.bytesFetched).toBeGreaterThan(0);
  expect(result.outcomes.midUpload.progressAtAbort?.bytesUploaded).toBeGreaterThan(0);
  expect(result.nextRows).toBe(1001);
});

test('bad bytes (HTML, truncated, random, flipped metadata, lengths past the end) reject with NOT_ARROW, TRUNCATED or CORRUPT naming the offset, and leak nothing', async ({
  harnessPage,
}) => {
  const layout = streamLayout('one-batch.stream');
  const xor = (at: number, mask: number) => `/fault/xor/one-batch.stream?at=${at}&mask=${mask}`;
  const urls = {
    html: '/fault/html',
    empty: '/fault/truncate/one-batch.stream?bytes=0',
    random: '/fault/random?bytes=4096&seed=7',
    truncatedStream: '/fault/truncate/one-batch.stream?bytes=20000',
    truncatedFile: '/fault/truncate/one-batch.arrow?bytes=20000',
    // 2^30 more schema fields than the metadata holds.
    schemaFieldCountFlipped: xor(layout.fieldCount + 3, 0x40),
    // The batch's body length 1 MiB longer than the stream.
    bodyLengthPastEnd: xor(layout.bodyLength + 2, 0x10),
    // A values buffer 1 MiB longer than the batch body.
    bufferLengthPastBody: xor(layout.bufferLength + 2, 0x10),
  };
  const result = await harnessPage.evaluate(async (urls) => {
    const { lib, settle } = window.harness;
    const loader = await lib.createLoader();
    try {
      await (await loader.load('/data/many-batches.stream')).destroy();
      const before = await loader.memory();
      const outcomes: Record<string, Outcome> = {};
      for (const [name, url] of Object.entries(urls)) {
        const { value: _, ...outcome } = await settle(loader.load(url));
        outcomes[name] = { ...outcome, after: await loader.memory() };
      }
      return { before, outcomes };
    } finally {
      await loader.close();
    }
  }, urls);
  const o = result.outcomes as Record<keyof typeof urls, Outcome>;
  for (const [name, outcome] of Object.entries(o)) {
    expect(outcome.isArrowGpuError, `${name}: ${outcome.message}`).toBe(true);
    expect(outcome.message, name).toContain(urls[name as keyof typeof urls].replace(/\?.*/, ''));
    expect(buffersOf(outcome.after), `${name} leaked GPU buffers`).toEqual(buffersOf(result.before));
  }
  expect(o.html).toMatchObject({ code: 'NOT_ARROW', name: 'DecodeError' });
  expect(o.html.message).toContain('<!doctyp');
  expect(o.empty).toMatchObject({ code: 'NOT_ARROW' });
  expect(o.random).toMatchObject({ code: 'NOT_ARROW' });
  expect(o.truncatedStream).toMatchObject({ code: 'TRUNCATED', details: { byteOffset: 20000 } });
  expect(o.truncatedFile).toMatchObject({ code: 'TRUNCATED' });
  expect(o.schemaFieldCountFlipped).toMatchObject({ code: 'CORRUPT' });
  const at = o.schemaFieldCountFlipped.details?.byteOffset as number;
  expect(at).toBeGreaterThanOrEqual(layout.schemaMetadata[0]);
  expect(at).toBeLessThan(layout.schemaMetadata[1]);
  expect(o.bodyLengthPastEnd).toMatchObject({ code: 'TRUNCATED' });
  expect(o.bodyLengthPastEnd.details?.expected).toBeGreaterThan(1 << 19);
  expect(o.bufferLengthPastBody).toMatchObject({ code: 'CORRUPT' });
  expect(o.bufferLengthPastBody.message).toMatch(/body buffer 1 spans bytes/);
});

test('a bit flipped in a batch body still loads (Arrow IPC has no checksum) and the GPU holds exactly the flipped values', async ({
  harnessPage,
}) => {
  const { bytes, bodyMiddle } = streamLayout('one-batch.stream');
  const flipped = bytes.slice();
  flipped[bodyMiddle] = (flipped[bodyMiddle] as number) ^ 0x10;
  const digests = await harnessPage.evaluate(async (url) => {
    const loader = await window.harness.lib.createLoader();
    try {
      return await window.harness.readAll(await loader.load(url));
    } finally {
      await loader.close();
    }
  }, `/fault/xor/one-batch.stream?at=${bodyMiddle}&mask=16`);
  const expected = expectedColumnsOf(flipped);
  expect(digests).toEqual(expected);
  const clean = expectedColumns('one-batch.stream');
  expect(expected.filter((e, i) => JSON.stringify(e) !== JSON.stringify(clean[i]))).toHaveLength(1);
});

test('fuzz: 60 mutated files through the whole loader each load or reject with a decode code within 10 s, leak nothing, and never kill the worker', async ({
  harnessPage,
}) => {
  const cases = ['one-batch.stream', 'one-batch.arrow', 'with-strings.stream'].flatMap((fixture) =>
    Array.from({ length: 20 }, (_, i) => ({
      fixture,
      seed: 1000 + i,
      columns: fixture === 'with-strings.stream' ? ['a', 'b'] : undefined,
    })),
  );
  const result = await harnessPage.evaluate(async (cases) => {
    const { lib, settle } = window.harness;
    const loader = await lib.createLoader();
    try {
      await (await loader.load('/data/many-batches.stream')).destroy();
      const before = await loader.memory();
      const outcomes = [];
      for (const { fixture, seed, columns } of cases) {
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(() => reject(Object.assign(new Error('no answer in 10 s'), { code: 'HANG' })), 10_000),
        );
        const load = loader.load(`/fault/mutate/${fixture}?seed=${seed}`, { columns });
        const { value, ...outcome } = await settle(Promise.race([load, timeout]));
        await value?.destroy();
        outcomes.push({ fixture, seed, ...outcome, after: await loader.memory() });
      }
      const clean = await loader.load('/data/one-batch.stream');
      return { before, outcomes, cleanRows: clean.numRows };
    } finally {
      await loader.close();
    }
  }, cases);
  const wrong = result.outcomes.filter(
    (o) =>
      !(o.ok || (o.isArrowGpuError && BAD_BYTES_CODES.includes(o.code as string))) ||
      JSON.stringify(buffersOf(o.after)) !== JSON.stringify(buffersOf(result.before)),
  );
  expect(wrong.map((o) => `${o.fixture} seed ${o.seed}: ${o.code} ${o.message}`)).toEqual([]);
  expect(result.outcomes).toHaveLength(60);
  // Both ends are exercised: some mutations still load, some are rejected.
  expect(result.outcomes.some((o) => o.ok)).toBe(true);
  expect(result.outcomes.some((o) => !o.ok)).toBe(true);
  expect(result.cleanRows).toBe(1001);
});

for (const upload of ['staging', 'writeBuffer'] as const) {
  test(`with ${upload}, a lost device fails the load in flight and reads of its tables with DEVICE_LOST; the next load gets a new device`, async ({
    harnessPage,
  }) => {
    const result = await harnessPage.evaluate(async (upload) => {
      const { settle, readAll, testLoader } = window.harness;
      const hooks = await testLoader({ upload });
      const loader = hooks.loader;
      try {
        const table = await loader.load('/data/one-batch.stream');
        let lost: Promise<void> | null = null;
        const { value: _, ...inFlight } = await settle(
          loader.load('/data/big-128.stream?throttle=100000000', {
            onProgress: (p) => {
              if (!lost && p.rows > 0) lost = hooks.loseDevice();
            },
          }),
        );
        await lost;
        const { value: __, ...read } = await settle(table.readColumn('f32'));
        const { value: ___, ...readValidity } = await settle(table.readValidity('f64'));
        const afterLoss = await loader.memory();
        const next = await loader.load('/data/one-batch.stream');
        return {
          inFlight,
          read,
          readValidity,
          afterLoss,
          digests: await readAll(next),
          lostCalled: lost !== null,
        };
      } finally {
        await loader.close();
      }
    }, upload);
    expect(result.lostCalled).toBe(true);
    expect(result.inFlight).toMatchObject({
      ok: false,
      code: 'DEVICE_LOST',
      name: 'GpuError',
      isArrowGpuError: true,
    });
    expect(result.read).toMatchObject({ ok: false, code: 'DEVICE_LOST' });
    expect(result.readValidity).toMatchObject({ ok: false, code: 'DEVICE_LOST' });
    expect(buffersOf(result.afterLoss)).toEqual({ liveBuffers: 0, liveBytes: 0 });
    expect(result.digests).toEqual(expectedColumns('one-batch.stream'));
  });
}

test('a column over maxBufferBytes fails with LIMIT_EXCEEDED naming it, and an allocation the GPU refuses with GPU_OUT_OF_MEMORY; nothing leaks', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle } = window.harness;
    const capped = await lib.createLoader({ maxBufferBytes: 16 << 20 });
    const loader = await lib.createLoader();
    try {
      await (await capped.load('/data/big-16.stream')).destroy();
      const cappedBefore = await capped.memory();
      const { value: _, ...overCap } = await settle(capped.load('/data/big-128.stream'));
      const cappedAfter = await capped.memory();
      const underCap = await capped.load('/data/big-16.stream');

      await (await loader.load('/data/many-batches.stream')).destroy();
      const before = await loader.memory();
      // A Content-Length of 1 TB makes the loader size each column for it: the device's whole
      // maxBufferSize, which SwiftShader cannot allocate.
      const { value: __, ...outOfMemory } = await settle(
        loader.load(`/fault/length/many-batches.stream?claim=${1e12}`),
      );
      const after = await loader.memory();
      const next = await loader.load('/data/many-batches.stream');
      return {
        overCap,
        cappedBefore,
        cappedAfter,
        underCapRows: underCap.numRows,
        outOfMemory,
        before,
        after,
        nextRows: next.numRows,
        adapter: await loader.adapterInfo(),
      };
    } finally {
      await capped.close();
      await loader.close();
    }
  });
  expect(result.overCap).toMatchObject({
    code: 'LIMIT_EXCEEDED',
    name: 'LimitError',
    details: { column: 'x', arrowType: 'Float32', expected: 16 << 20 },
  });
  expect(result.overCap.message).toContain('column "x"');
  expect(result.overCap.message).toContain("the loader's maxBufferBytes");
  expect(result.overCap.details?.url).toMatch(/\/data\/big-128\.stream$/);
  expect(buffersOf(result.cappedAfter)).toEqual(buffersOf(result.cappedBefore));
  expect(result.underCapRows).toBe(fixtureRows('big-16.stream'));
  expect(result.outOfMemory, `SwiftShader refused ${result.adapter.maxBufferSize} bytes`).toMatchObject({
    code: 'GPU_OUT_OF_MEMORY',
    name: 'GpuError',
    isArrowGpuError: true,
  });
  expect(result.outOfMemory.message).toMatch(/column "/);
  expect(buffersOf(result.after)).toEqual(buffersOf(result.before));
  expect(result.nextRows).toBe(fixtureRows('many-batches.stream'));
});

for (const how of ['crashes', 'is terminated'] as const) {
  test(`when the worker ${how}, every pending call rejects with WORKER_FAILED within 2 s, later calls too, and a new loader works`, async ({
    harnessPage,
  }) => {
    const result = await harnessPage.evaluate(async (how) => {
      const { lib, settle, readAll, testLoader } = window.harness;
      const hooks = await testLoader();
      const loader = hooks.loader;
      let started: () => void = () => {};
      const firstProgress = new Promise<void>((resolve) => {
        started = resolve;
      });
      const calls = [
        loader.load('/data/big-128.stream?throttle=20000000', { onProgress: () => started() }),
        loader.load('/fault/hang'),
      ];
      // Handled from the start; settled, and timed, from the fault on.
      for (const call of calls) call.catch(() => {});
      await firstProgress;
      // A call still pending 5 s after the fault (or after it is made, later) fails the test now rather
      // than at the test's timeout.
      const orHang = <T>(call: Promise<T>) =>
        Promise.race([
          call,
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(Object.assign(new Error('still pending 5 s after'), { code: 'HANG' })),
              5000,
            ),
          ),
        ]);
      const settling = calls.map((call) => settle(orHang(call)));
      // `exit` is self.close(): the worker is gone with no error event, as when it is killed for memory.
      const fault = how === 'crashes' ? hooks.crash() : hooks.exit();
      const outcomes = (await Promise.all(settling)).map(({ value: _, ...o }) => o);
      await fault;
      const { value: __, ...later } = await settle(orHang(loader.memory()));
      const { value: ___, ...closed } = await settle(loader.close());
      const again = await lib.createLoader();
      try {
        return {
          outcomes,
          later,
          closed,
          digests: await readAll(await again.load('/data/one-batch.stream')),
        };
      } finally {
        await again.close();
      }
    }, how);
    for (const outcome of result.outcomes) {
      expect(outcome).toMatchObject({ ok: false, code: 'WORKER_FAILED', name: 'WorkerFailedError' });
      // Measured from the fault, not from the call.
      expect(outcome.ms).toBeLessThan(2000);
    }
    expect(result.outcomes[0]?.message).toMatch(
      how === 'crashes' ? /crash requested by a test/ : /stopped answering/,
    );
    expect(result.later).toMatchObject({ ok: false, code: 'WORKER_FAILED' });
    expect(result.later.ms).toBeLessThan(50);
    expect(result.closed.ok).toBe(true);
    expect(result.digests).toEqual(expectedColumns('one-batch.stream'));
  });
}

test('bad options of createLoader and load reject with INVALID_ARGUMENT naming the option, and the loader stays usable', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle } = window.harness;
    const loaderCases: Record<string, Parameters<typeof lib.createLoader>[0]> = {
      maxBufferBytes: { maxBufferBytes: 3 },
      upload: { upload: 'fast' as 'staging' },
      workerUrl: { workerUrl: 'http://[' },
    };
    const outcomes: Record<string, Omit<Settled<unknown>, 'value'>> = {};
    for (const [name, options] of Object.entries(loaderCases)) {
      const { value: _, ...outcome } = await settle(lib.createLoader(options));
      outcomes[`createLoader ${name}`] = outcome;
    }
    const loader = await lib.createLoader();
    try {
      const loadCases: Record<string, Parameters<typeof loader.load>[1]> = {
        upload: { upload: 'gpu' as 'staging' },
        timeoutMs: { timeoutMs: -1 },
        columns: { columns: 'x' as unknown as string[] },
      };
      for (const [name, options] of Object.entries(loadCases)) {
        const { value: _, ...outcome } = await settle(loader.load('/data/one-batch.stream', options));
        outcomes[`load ${name}`] = outcome;
      }
      return { outcomes, rows: (await loader.load('/data/one-batch.stream')).numRows };
    } finally {
      await loader.close();
    }
  });
  for (const [name, outcome] of Object.entries(result.outcomes)) {
    const option = name.split(' ')[1];
    expect(outcome, name).toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      name: 'ArgumentError',
      isArrowGpuError: true,
      details: { option },
    });
    expect(outcome.message, name).toContain(`${option} must be`);
  }
  expect(result.outcomes['createLoader maxBufferBytes']?.details).toMatchObject({ expected: 4, actual: 3 });
  expect(result.rows).toBe(1001);
});

test('several loads at once on one loader each read back correctly, one failing among them, with at most 2 staging buffers in flight in all', async ({
  harnessPage,
}) => {
  const jobs: Array<{ fixture: string; columns?: string[] }> = [
    { fixture: 'many-batches.stream' },
    { fixture: 'many-batches.arrow' },
    { fixture: 'one-batch.stream' },
    { fixture: 'with-strings.stream', columns: ['b', 'a'] },
    { fixture: 'big-16.stream' },
  ];
  const result = await harnessPage.evaluate(async (jobs) => {
    const { lib, settle, readAll } = window.harness;
    const loader = await lib.createLoader({ upload: 'staging' });
    try {
      const failing = settle(loader.load('/fault/truncate/many-batches.stream?bytes=800000'));
      const loaded = await Promise.all(
        jobs.map(async ({ fixture, columns }) => {
          const table = await loader.load(`/data/${fixture}`, { columns });
          const digests = await readAll(table);
          await table.destroy();
          return { digests, maxUploadsInFlight: table.stats.maxUploadsInFlight };
        }),
      );
      const { value: _, ...failed } = await failing;
      return { loaded, failed, memory: await loader.memory() };
    } finally {
      await loader.close();
    }
  }, jobs);
  jobs.forEach(({ fixture, columns }, i) => {
    expect(result.loaded[i]?.digests, fixture).toEqual(expectedColumns(fixture, columns));
    expect(result.loaded[i]?.maxUploadsInFlight).toBeLessThanOrEqual(2);
  });
  expect(result.failed).toMatchObject({ ok: false, code: 'TRUNCATED' });
  expect(result.memory.maxStagingInFlight).toBeGreaterThanOrEqual(1);
  expect(result.memory.maxStagingInFlight).toBeLessThanOrEqual(2);
  expect(result.memory.stagingInFlight).toBe(0);
  // Only the shared staging ring outlives the destroyed tables.
  expect(result.memory.liveBuffers).toBeLessThanOrEqual(2);
});

/**
 * The live JS heap of the loader's worker (V8's heap plus ArrayBuffer backing stores, after a full
 * garbage collection), sampled through the DevTools protocol: a worker has no `performance.memory`.
 * Collecting first measures what the worker keeps, not how lazily V8 frees what it dropped.
 */
class WorkerHeap {
  readonly #cdp: CDPSession;
  readonly #sessionId: string;
  readonly #pending = new Map<number, (result: Record<string, number>) => void>();
  #nextId = 1;

  private constructor(cdp: CDPSession, sessionId: string) {
    this.#cdp = cdp;
    this.#sessionId = sessionId;
    cdp.on('Target.receivedMessageFromTarget', (event) => {
      if (event.sessionId !== sessionId) return;
      const message = JSON.parse(event.message) as { id?: number; result?: Record<string, number> };
      if (message.id !== undefined) this.#pending.get(message.id)?.(message.result ?? {});
    });
  }

  static async attach(page: Page): Promise<WorkerHeap> {
    const browser = page.context().browser();
    if (!browser) throw new Error('no browser');
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = await cdp.send('Target.getTargets');
    const worker = targetInfos.find((t) => t.type === 'worker' && t.url.includes('loader.worker'));
    if (!worker) throw new Error(`no loader worker among ${targetInfos.map((t) => t.url).join(', ')}`);
    // Not flattened: Playwright's session cannot address a child session, so messages to the worker go
    // through Target.sendMessageToTarget.
    const { sessionId } = await cdp.send('Target.attachToTarget', {
      targetId: worker.targetId,
      flatten: false,
    });
    return new WorkerHeap(cdp, sessionId);
  }

  #send(method: string): Promise<Record<string, number>> {
    const id = this.#nextId++;
    const reply = new Promise<Record<string, number>>((resolve) => this.#pending.set(id, resolve));
    void this.#cdp.send('Target.sendMessageToTarget', {
      sessionId: this.#sessionId,
      message: JSON.stringify({ id, method }),
    });
    return reply;
  }

  /** Bytes reachable now: JS objects and the ArrayBuffers they hold. */
  async live(): Promise<number> {
    await this.#send('HeapProfiler.collectGarbage');
    const usage = await this.#send('Runtime.getHeapUsage');
    return (usage.usedSize ?? 0) + (usage.backingStorageSize ?? 0);
  }

  /** Runs `work`, sampling every 20 ms; resolves to the most live bytes above the level before it. */
  async peakGrowthDuring(work: () => Promise<unknown>): Promise<number> {
    const base = await this.live();
    let peak = base;
    let running = true;
    const sampling = (async () => {
      while (running) {
        peak = Math.max(peak, await this.live());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await work();
    } finally {
      running = false;
      await sampling;
    }
    return peak - base;
  }

  async detach(): Promise<void> {
    await this.#cdp.detach();
  }
}

test('the worker’s live heap stays bounded while the GPU path is the bottleneck: 128 MiB peaks within a fixed margin of 16 MiB', async ({
  harnessPage,
}) => {
  await harnessPage.evaluate(async () => {
    (window as unknown as { heapLoader: Loader }).heapLoader = await window.harness.lib.createLoader();
  });
  const heap = await WorkerHeap.attach(harnessPage);
  const load = (fixture: string) =>
    harnessPage.evaluate(async (url) => {
      const loader = (window as unknown as { heapLoader: Loader }).heapLoader;
      const table = await loader.load(url);
      await table.destroy();
      return table.stats;
    }, `/data/${fixture}`);
  try {
    const measure = async (fixture: string) => {
      let stats: LoadStats | null = null;
      const growth = await heap.peakGrowthDuring(async () => {
        stats = await load(fixture);
      });
      return { growth, stats: stats as unknown as LoadStats };
    };
    await load('big-16.stream'); // warm up: code, staging ring
    const small = await measure('big-16.stream');
    const queueCapacity = 2;
    // The GPU path must be the bottleneck: decoding waits on a full queue. Which path is slower depends
    // on the machine's load at the time, so a load where decoding was is measured again (three at most).
    let large = await measure('big-128.stream');
    for (let attempt = 1; attempt < 3 && large.stats.maxQueueDepth < queueCapacity; attempt++) {
      large = await measure('big-128.stream');
    }
    // What the pipeline may hold whatever the file size: the batches queued or being decoded and
    // uploaded, and the bytes read ahead of decoding; plus 8 MiB for everything else.
    const batchBytes = FIXTURES['big-128.stream'].batchRows * 18;
    const bound = 3 * batchBytes * queueCapacity + DEFAULT_READ_AHEAD_BYTES + (8 << 20);
    const fileBytes = fixtureBytes('big-128.stream').byteLength;
    expect(large.stats.maxQueueDepth).toBe(queueCapacity);
    expect(large.stats.bytesFetched).toBe(fileBytes);
    expect(
      large.growth - small.growth,
      `peak growth ${(large.growth / 2 ** 20).toFixed(1)} MiB for 128 MiB, ${(small.growth / 2 ** 20).toFixed(1)} MiB for 16 MiB`,
    ).toBeLessThan(bound);
  } finally {
    await heap.detach();
    await harnessPage.evaluate(() => (window as unknown as { heapLoader: Loader }).heapLoader.close());
  }
});
