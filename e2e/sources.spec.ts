import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_DIR } from './fixtures.js';
import type { ColumnDigest } from './pages/harness.js';
import { expect, expectedColumns, expectedColumnsOf, fixtureRows, test } from './support.js';
import { TEST_API_KEY } from './test-routes.js';

// Every source a page has: a URL (GET, or a POST with headers and a body), a Response, a ReadableStream,
// a Blob, a File, an ArrayBuffer, a Uint8Array. The same bytes give the same table, byte for byte.

/** What one load of one source gave. */
interface Run {
  rows: number;
  digests: ColumnDigest[];
  bytesTotal: number | null | undefined;
  bytesFetched: number;
}

/** How a load that was expected to fail failed. */
interface Failure {
  code: string | null;
  message: string | null;
  details: Record<string, unknown> | null;
}

const size = (fixture: string) => statSync(join(FIXTURE_DIR, fixture)).size;

test('a stream-format fixture loads identically from a URL, a POST, a Response, a ReadableStream, a Blob, a File and bytes', async ({
  harnessPage,
}) => {
  const fixture = 'many-batches.stream';
  const query = `select * from "${fixture}"`;
  const result = await harnessPage.evaluate(
    async ({ fixture, query, key }) => {
      const { lib, readAll, testStream } = window.harness;
      const loader = await lib.createLoader();
      const bytes = new Uint8Array(await (await fetch(`/data/${fixture}`)).arrayBuffer());
      const runs: Record<string, Run> = {};
      const run = async (name: string, source: import('../src/index.js').LoadSource, options = {}) => {
        let bytesTotal: number | null | undefined;
        const table = await loader.load(source, {
          ...options,
          onProgress: (p) => {
            bytesTotal = p.bytesTotal;
          },
        });
        const digests = await readAll(table);
        await new Promise((resolve) => setTimeout(resolve, 100)); // the last progress report
        runs[name] = { rows: table.numRows, digests, bytesTotal, bytesFetched: table.stats.bytesFetched };
        await table.destroy();
      };
      try {
        const before = await loader.memory();
        await run('url', `/data/${fixture}`);
        await run('URL object', new URL(`/data/${fixture}`, location.href));
        await run('POST', `/auth/${fixture}?expect=${encodeURIComponent(query)}`, {
          method: 'POST',
          headers: { 'X-Api-Key': key },
          body: query,
        });
        await run('Response', await fetch(`/data/${fixture}`));
        await run('ReadableStream', testStream(bytes, { sizes: [1, 7, 4093, 65537, 3, 100003] }).stream);
        await run('Blob', new Blob([bytes]));
        await run('File', new File([bytes], fixture));
        const dropped = new DataTransfer();
        dropped.items.add(new File([bytes], fixture, { type: 'application/vnd.apache.arrow.stream' }));
        await run('dropped File', dropped.files[0] as File);
        const transferred = bytes.slice().buffer;
        await run('ArrayBuffer', transferred);
        await run('Uint8Array, keepBytes', bytes, { keepBytes: true });
        await run('part of a Uint8Array', new Uint8Array([...bytes, 1, 2, 3]).subarray(0, bytes.byteLength));
        return {
          runs,
          transferredLength: transferred.byteLength,
          keptLength: bytes.byteLength,
          keptDigest: await window.harness.digest(bytes),
          before,
          after: await window.harness.settledMemory(loader, before),
        };
      } finally {
        await loader.close();
      }
    },
    { fixture, query, key: TEST_API_KEY },
  );
  const expected = expectedColumns(fixture);
  const bytes = size(fixture);
  const streamed = new Set(['ReadableStream']);
  expect(Object.keys(result.runs)).toHaveLength(11);
  for (const [name, run] of Object.entries(result.runs)) {
    expect(run.rows, name).toBe(fixtureRows(fixture));
    expect(run.digests, name).toEqual(expected);
    expect(run.bytesFetched, name).toBe(bytes);
    expect(run.bytesTotal, name).toBe(streamed.has(name) ? null : bytes);
  }
  // The ArrayBuffer went to the worker (detached here); the kept bytes are as they were.
  expect(result.transferredLength).toBe(0);
  expect(result.keptLength).toBe(bytes);
  expect(result.keptDigest).toBe(
    (await import('node:crypto'))
      .createHash('sha256')
      .update(readFileSync(join(FIXTURE_DIR, fixture)))
      .digest('hex'),
  );
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.before.liveBuffers,
    result.before.liveBytes,
  ]);
});

test('a file whose schema is only in its footer loads from a URL (with headers on its Range reads), a Blob or bytes, and is INVALID_ARGUMENT from a stream', async ({
  harnessPage,
}) => {
  const fixture = 'many-batches.arrow';
  const result = await harnessPage.evaluate(
    async ({ fixture, key }) => {
      const { lib, readAll, settle, testStream } = window.harness;
      const loader = await lib.createLoader();
      const bytes = new Uint8Array(await (await fetch(`/data/${fixture}`)).arrayBuffer());
      const load = async (source: import('../src/index.js').LoadSource, options = {}) => {
        const table = await loader.load(source, options);
        const digests = await readAll(table);
        await table.destroy();
        return { rows: table.numRows, digests };
      };
      const failure = async (source: import('../src/index.js').LoadSource, options = {}) => {
        const { code, message, details } = await settle(loader.load(source, options));
        return { code, message, details };
      };
      try {
        return {
          loaded: {
            url: await load(`/data/${fixture}`),
            'url with headers': await load(`/auth/${fixture}`, { headers: { 'X-Api-Key': key } }),
            Blob: await load(new Blob([bytes])),
            File: await load(new File([bytes], fixture)),
            ArrayBuffer: await load(bytes.slice().buffer),
          },
          failed: {
            Response: await failure(await fetch(`/data/${fixture}`)),
            ReadableStream: await failure(testStream(bytes, { sizes: [65536] }).stream),
            POST: await failure(`/auth/${fixture}?expect=q`, {
              method: 'POST',
              headers: { 'X-Api-Key': key },
              body: 'q',
            }),
          },
          origin: location.origin,
        };
      } finally {
        await loader.close();
      }
    },
    { fixture, key: TEST_API_KEY },
  );
  const expected = expectedColumns(fixture);
  for (const [name, run] of Object.entries(result.loaded)) {
    expect(run.rows, name).toBe(fixtureRows(fixture));
    expect(run.digests, name).toEqual(expected);
  }
  const names: Record<string, string> = {
    Response: `response ${result.origin}/data/${fixture}`,
    ReadableStream: 'stream',
    POST: `${result.origin}/auth/${fixture}?expect=q`,
  };
  for (const [name, failure] of Object.entries(result.failed) as [string, Failure][]) {
    expect(failure, name).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'source', url: names[name] },
    });
    expect(failure.message, name).toContain(
      `${names[name]} is an Arrow file whose schema is only in its footer`,
    );
  }
});

test('a file written with its schema first loads exactly from every source, a stream read through to its footer', async ({
  harnessPage,
}) => {
  const path = '1.0.0-littleendian/generated_primitive.arrow_file';
  const columns = [
    'int8_nullable',
    'uint16_nonnullable',
    'int32_nullable',
    'float32_nullable',
    'float64_nonnullable',
  ];
  const runs = await harnessPage.evaluate(
    async ({ path, columns }) => {
      const { lib, readAll, testStream } = window.harness;
      const loader = await lib.createLoader();
      const url = `/arrow-testing/${path}`;
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const out: Record<string, { rows: number; digests: ColumnDigest[] }> = {};
      try {
        for (const [name, source] of [
          ['url', url],
          ['Response', await fetch(url)],
          ['ReadableStream', testStream(bytes, { sizes: [3, 1, 509] }).stream],
          ['Blob', new Blob([bytes])],
          ['bytes', bytes.slice()],
        ] as const) {
          const table = await loader.load(source, { columns });
          out[name] = { rows: table.numRows, digests: await readAll(table) };
          await table.destroy();
        }
        return out;
      } finally {
        await loader.close();
      }
    },
    { path, columns },
  );
  const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '../test/data/arrow-testing', path)));
  expect(bytes[8]).toBe(0xff); // its first message follows the magic: the schema
  const expected = expectedColumnsOf(bytes, columns);
  expect(Object.keys(runs)).toHaveLength(5);
  for (const [name, run] of Object.entries(runs)) {
    expect(run.rows, name).toBe(37);
    expect(run.digests, name).toEqual(expected);
  }
});

test('a POST carries its headers and a body of any kind; a refused one is HTTP_STATUS naming the method', async ({
  harnessPage,
}) => {
  const fixture = 'one-batch.stream';
  const result = await harnessPage.evaluate(
    async ({ fixture, key }) => {
      const { lib, settle } = window.harness;
      const loader = await lib.createLoader();
      const route = (expect: string, type = '') =>
        `/auth/${fixture}?expect=${encodeURIComponent(expect)}&type=${encodeURIComponent(type)}`;
      const post = (url: string, body: import('../src/index.js').RequestBody, headers: HeadersInit) =>
        settle(loader.load(url, { method: 'POST', headers, body }).then((t) => t.numRows));
      const auth = new Headers({ 'X-Api-Key': key });
      try {
        return {
          string: await post(route('select 1', 'text/plain'), 'select 1', auth),
          bytes: await post(route('select 2'), new TextEncoder().encode('select 2'), [['x-api-key', key]]),
          blob: await post(
            route('{"q":3}', 'application/json'),
            new Blob(['{"q":3}'], { type: 'application/json' }),
            {
              'X-Api-Key': key,
            },
          ),
          form: await post(
            route('q=select+4', 'application/x-www-form-urlencoded'),
            new URLSearchParams({ q: 'select 4' }),
            auth,
          ),
          inspect: await settle(
            loader
              .inspect(route('select 5'), { method: 'POST', headers: auth, body: 'select 5' })
              .then((s) => s.columns.length),
          ),
          noKey: await post(route('select 6'), 'select 6', {}),
          wrongBody: await post(route('select 7'), 'select 8', auth),
          getWithBody: await settle(loader.load(route('x'), { body: 'x' })),
          origin: location.origin,
        };
      } finally {
        await loader.close();
      }
    },
    { fixture, key: TEST_API_KEY },
  );
  for (const name of ['string', 'bytes', 'blob', 'form'] as const) {
    expect(result[name], `${name}: ${result[name].message}`).toMatchObject({
      ok: true,
      value: fixtureRows(fixture),
    });
  }
  expect(result.inspect).toMatchObject({ ok: true, value: 8 });
  expect(result.noKey).toMatchObject({ code: 'HTTP_STATUS', details: { status: 401 } });
  expect(result.noKey.message).toMatch(
    new RegExp(`^POST ${result.origin}/auth/${fixture.replace('.', '\\.')}\\?`),
  );
  expect(result.wrongBody).toMatchObject({ code: 'HTTP_STATUS', details: { status: 400 } });
  expect(result.getWithBody).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'body' } });
});

test('bad sources fail typed and named: not Arrow, a stream that errors, a stall, a non-2xx Response, a wrong kind', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle, testStream } = window.harness;
    const loader = await lib.createLoader();
    const bytes = new Uint8Array(await (await fetch('/data/many-batches.stream')).arrayBuffer());
    const load = (source: unknown, options = {}) =>
      settle(loader.load(source as import('../src/index.js').LoadSource, options));
    try {
      const before = await loader.memory();
      const erroring = testStream(bytes, { sizes: [5000], errorAt: 700_000 });
      const stalled = testStream(bytes, { sizes: [4096], hangAt: 100_000 });
      const transferred = bytes.slice().buffer;
      await (await loader.load(transferred)).destroy();
      const until = async (done: () => boolean) => {
        for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
        return done();
      };
      const out = {
        csv: await load(new Blob(['a,b\n1,2\n'], { type: 'text/csv' })),
        csvFile: await load(new File(['a,b\n1,2\n'], 'notes.csv')),
        empty: await load(new Uint8Array(0)),
        erroring: await load(erroring.stream),
        stalled: await load(stalled.stream, { timeoutMs: 1000 }),
        notFound: await load(await fetch('/fault/status/404')),
        number: await load(42),
        object: await load({ href: '/data/one-batch.stream' }),
        floats: await load(new Float32Array(4)),
        detached: await load(transferred),
        headersOnBlob: await load(new Blob([bytes]), { headers: { 'X-Api-Key': 'k' } }),
        locked: await load(
          (() => {
            const s = testStream(bytes, { sizes: [10] }).stream;
            s.getReader();
            return s;
          })(),
        ),
        erroringState: erroring.state,
        stalledCancelled: await until(() => stalled.state.cancelled),
        before,
        after: await window.harness.settledMemory(loader, before),
        next: (await loader.load('/data/one-batch.stream')).numRows,
        origin: location.origin,
      };
      return out;
    } finally {
      await loader.close();
    }
  });
  expect(result.csv).toMatchObject({
    code: 'NOT_ARROW',
    isArrowGpuError: true,
    details: { url: 'blob:text/csv' },
  });
  expect(result.csv.message).toMatch(/^blob:text\/csv is not Arrow IPC/);
  expect(result.csvFile).toMatchObject({ code: 'NOT_ARROW', details: { url: 'blob:notes.csv' } });
  expect(result.empty).toMatchObject({ code: 'NOT_ARROW', details: { url: 'bytes' } });
  expect(result.erroring).toMatchObject({
    code: 'NETWORK',
    name: 'NetworkError',
    details: { url: 'stream' },
  });
  // The bytes that crossed to the worker before the error (chunks still queued there go with it).
  const erroredAt = result.erroring.details?.byteOffset as number;
  expect(erroredAt).toBeGreaterThan(0);
  expect(erroredAt).toBeLessThanOrEqual(700_000);
  expect(result.erroringState.delivered).toBe(700_000);
  expect(result.erroring.message).toBe(`stream failed after ${erroredAt} bytes: Error: disk gone`);
  expect(result.stalled).toMatchObject({ code: 'NETWORK', details: { url: 'stream', byteOffset: 100_000 } });
  expect(result.stalled.message).toBe('stream stalled: no bytes for 1000 ms after 100000 bytes');
  expect(result.stalledCancelled, 'the stalled stream was cancelled').toBe(true);
  expect(result.notFound).toMatchObject({
    code: 'HTTP_STATUS',
    details: { status: 404, url: `response ${result.origin}/fault/status/404` },
  });
  for (const [name, got] of [
    ['number', 'got 42'],
    ['object', 'got an object'],
    ['floats', 'got a Float32Array'],
  ] as const) {
    expect(result[name], name).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'source' } });
    expect(result[name].message, name).toMatch(new RegExp(`^load: source must be a URL .*, ${got}$`));
  }
  expect(result.detached).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'source' } });
  expect(result.detached.message).toContain('keepBytes: true');
  expect(result.headersOnBlob).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'headers' } });
  expect(result.locked).toMatchObject({
    code: 'INVALID_ARGUMENT',
    details: { option: 'source', url: 'stream' },
  });
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.before.liveBuffers,
    result.before.liveBytes,
  ]);
  expect(result.next).toBe(1001);
});

test('aborting the load of a stream cancels the stream, frees the load’s buffers, and leaves the loader usable', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle, testStream } = window.harness;
    const loader = await lib.createLoader();
    const bytes = new Uint8Array(await (await fetch('/data/many-batches.stream')).arrayBuffer());
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      return done();
    };
    try {
      const before = await loader.memory();
      // Mid-body: batches are on the GPU, the producer is waiting for more.
      const mid = testStream(bytes, { sizes: [8192], hangAt: 600_000 });
      const controller = new AbortController();
      const pending = settle(loader.load(mid.stream, { signal: controller.signal }));
      const reachedHang = await until(() => mid.state.delivered >= 600_000);
      controller.abort();
      const aborted = await pending;
      const midCancelled = await until(() => mid.state.cancelled);
      // Aborted before the load started: the stream never went to the worker, and is cancelled here.
      const early = testStream(bytes, { sizes: [8192] });
      const abortedEarly = await settle(loader.load(early.stream, { signal: AbortSignal.abort() }));
      const earlyCancelled = await until(() => early.state.cancelled);
      // A Response's body, aborted mid-way, is cancelled too.
      const body = testStream(bytes, { sizes: [8192], hangAt: 300_000 });
      const response = new Response(body.stream);
      const second = new AbortController();
      const viaResponse = settle(loader.load(response, { signal: second.signal }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      second.abort();
      const abortedResponse = await viaResponse;
      const responseCancelled = await until(() => body.state.cancelled);
      return {
        reachedHang,
        aborted,
        midState: mid.state,
        midCancelled,
        abortedEarly,
        earlyState: early.state,
        earlyCancelled,
        abortedResponse,
        responseCancelled,
        before,
        after: await window.harness.settledMemory(loader, before),
        next: (await loader.load(bytes, { keepBytes: true })).numRows,
      };
    } finally {
      await loader.close();
    }
  });
  expect(result.reachedHang).toBe(true);
  expect(result.aborted).toMatchObject({ code: 'ABORTED', name: 'AbortError', details: { url: 'stream' } });
  expect(result.midCancelled, 'the stream was cancelled').toBe(true);
  expect(result.midState.delivered).toBe(600_000);
  expect(result.abortedEarly).toMatchObject({ code: 'ABORTED' });
  expect(result.earlyCancelled, 'the stream aborted before the load started was cancelled').toBe(true);
  expect(result.earlyState.delivered).toBe(0);
  expect(result.abortedResponse).toMatchObject({ code: 'ABORTED', details: { url: 'response' } });
  expect(result.responseCancelled, "the Response's body was cancelled").toBe(true);
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.before.liveBuffers,
    result.before.liveBytes,
  ]);
  expect(result.next).toBe(fixtureRows('many-batches.stream'));
});

test('inspect reads the schema of a Blob, bytes or a stream (then cancelled), as of the URL', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, testStream } = window.harness;
    const loader = await lib.createLoader();
    const url = '/data/one-batch.arrow';
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const streamBytes = new Uint8Array(await (await fetch('/data/many-batches.stream')).arrayBuffer());
    try {
      const stream = testStream(streamBytes, { sizes: [4096] });
      const fromStream = await loader.inspect(stream.stream);
      for (let i = 0; i < 1000 && !stream.state.cancelled; i++) await new Promise((r) => setTimeout(r, 10));
      return {
        url: await loader.inspect(url),
        blob: await loader.inspect(new File([bytes], 'one-batch.arrow')),
        bytes: await loader.inspect(bytes, { keepBytes: true }),
        streamUrl: await loader.inspect('/data/many-batches.stream'),
        fromStream,
        streamState: stream.state,
      };
    } finally {
      await loader.close();
    }
  });
  const strip = ({ url: _, ...rest }: { url: string }) => rest;
  expect(result.url.format).toBe('file');
  expect(result.blob).toEqual({ ...result.url, url: 'blob:one-batch.arrow' });
  expect(result.bytes).toEqual({ ...result.url, url: 'bytes' });
  expect(strip(result.fromStream)).toEqual({ ...strip(result.streamUrl), bytesTotal: null });
  expect(result.fromStream.url).toBe('stream');
  expect(result.streamState.cancelled, 'the stream was cancelled once its schema was read').toBe(true);
  expect(result.streamState.delivered).toBeLessThan(size('many-batches.stream'));
});
