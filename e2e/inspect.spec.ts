import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_DIR } from './fixtures.js';
import { expect, test } from './support.js';

// `inspect` reads the schema alone: the first message of a stream (the request is then closed, not
// drained), the first message or the footer of a file. It makes no GPU buffer.

interface Connection {
  openedAt: number;
  closedAt: number | null;
}

const NUMERIC = [
  ['f32', 'Float32', 'f32', 'f32'],
  ['f64', 'Float64', 'f32', 'f32'],
  ['i8', 'Int8', 'i32', 'i32'],
  ['u8', 'Uint8', 'u32', 'u32'],
  ['i16', 'Int16', 'i32', 'i32'],
  ['u16', 'Uint16', 'u32', 'u32'],
  ['i32', 'Int32', 'i32', 'i32'],
  ['u32', 'Uint32', 'u32', 'u32'],
] as const;

for (const [fixture, format] of [
  ['one-batch.stream', 'stream'],
  ['one-batch.arrow', 'file'],
] as const) {
  test(`${fixture}: inspect gives the ${format}'s columns and the encodings a load gives them, making no GPU buffer`, async ({
    harnessPage,
  }) => {
    const result = await harnessPage.evaluate(async (fixture) => {
      const loader = await window.harness.lib.createLoader();
      try {
        const before = await loader.memory();
        const schema = await loader.inspect(`/data/${fixture}`);
        const exact = await loader.inspect(`/data/${fixture}`, {
          encodings: 'exact',
          columns: ['f64', 'i8'],
        });
        const afterInspect = await loader.memory();
        const table = await loader.load(`/data/${fixture}`);
        const loaded = table.columns;
        await table.destroy();
        return { schema, exact, before, afterInspect, loaded };
      } finally {
        await loader.close();
      }
    }, fixture);
    const { schema } = result;
    expect(schema).toMatchObject({
      url: expect.stringMatching(new RegExp(`^http://localhost:\\d+/data/${fixture.replace('.', '\\.')}$`)),
      format,
      skipped: [],
      metadata: {},
      bytesTotal: statSync(join(FIXTURE_DIR, fixture)).size,
    });
    expect(schema.columns).toEqual(
      NUMERIC.map(([name, arrowType, encoding, gpuType]) => ({
        name,
        arrowType,
        nullable: name === 'f64' || name === 'i8', // the fixture's columns with nulls
        encoding,
        components: 1,
        gpuType,
      })),
    );
    // What a load of the same source lays on the GPU.
    expect(result.loaded.map((c) => [c.name, c.arrowType, c.encoding, c.components, c.gpuType])).toEqual(
      schema.columns.map((c) => [c.name, c.arrowType, c.encoding, c.components, c.gpuType]),
    );
    expect(result.exact.columns.map((c) => [c.name, c.encoding, c.components, c.gpuType])).toEqual([
      ['f64', 'f64', 2, 'u32'],
      ['i8', 'i32', 1, 'i32'],
    ]);
    expect([result.afterInspect.liveBuffers, result.afterInspect.liveBytes]).toEqual([
      result.before.liveBuffers,
      result.before.liveBytes,
    ]);
  });
}

test('inspect fails as a load does: a 404 is HTTP_STATUS, an HTML page NOT_ARROW, a misfit encoding INVALID_ARGUMENT, an abort ABORTED', async ({
  harnessPage,
}) => {
  const outcomes = await harnessPage.evaluate(async () => {
    const { lib, settle } = window.harness;
    const loader = await lib.createLoader();
    const outcome = async (promise: Promise<unknown>) => {
      const { value: _, ms: __, ...rest } = await settle(promise);
      return rest;
    };
    try {
      const missing = await outcome(loader.inspect('/fault/status/404'));
      const html = await outcome(loader.inspect('/fault/html'));
      const misfit = await outcome(loader.inspect('/data/one-batch.stream', { encodings: { f32: 'i32' } }));
      const controller = new AbortController();
      const hanging = loader.inspect('/fault/hang', { signal: controller.signal });
      setTimeout(() => controller.abort(), 200); // while the server has not answered
      return { missing, html, misfit, aborted: await outcome(hanging) };
    } finally {
      await loader.close();
    }
  });
  expect(outcomes.missing).toMatchObject({
    ok: false,
    code: 'HTTP_STATUS',
    name: 'HttpStatusError',
    isArrowGpuError: true,
    details: { status: 404 },
  });
  expect(outcomes.html).toMatchObject({ ok: false, code: 'NOT_ARROW' });
  expect(outcomes.misfit).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', details: { column: 'f32' } });
  expect(outcomes.aborted).toMatchObject({ ok: false, code: 'ABORTED', name: 'AbortError' });
});

test('inspect closes a stream request within 1 s of reading its schema, without reading it to the end', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      const conn = `inspect-${Math.random()}`;
      // 16 MiB at 1 MB/s: reading it to the end would take 16 s.
      const schema = await loader.inspect(`/data/big-16.stream?throttle=1000000&conn=${conn}`);
      const resolvedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const connection: Connection = await (await fetch(`/connections/${conn}`)).json();
      return { schema, resolvedAt, connection };
    } finally {
      await loader.close();
    }
  });
  expect(result.schema.format).toBe('stream');
  expect(result.schema.columns.map((c) => c.name)).toEqual(['x', 'y', 'id', 'kind']);
  expect(result.connection.closedAt, 'the request was left open').not.toBeNull();
  const closedAt = result.connection.closedAt as number;
  expect(closedAt - result.resolvedAt).toBeLessThan(1000);
  expect(closedAt - result.connection.openedAt, 'the body was read to its end').toBeLessThan(5000);
});

test('run-end.stream: inspect gives RunEndEncoded columns the encoding of their values, as a load does', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      const schema = await loader.inspect('/data/run-end.stream', { encodings: 'exact' });
      const table = await loader.load('/data/run-end.stream', { encodings: 'exact' });
      const loaded = table.columns;
      await table.destroy();
      return { schema, loaded };
    } finally {
      await loader.close();
    }
  });
  const { schema, loaded } = result;
  expect(schema.skipped).toEqual([]);
  expect(schema.columns.find((c) => c.name === 'span')).toEqual({
    name: 'span',
    arrowType: 'RunEndEncoded<Int16, Interval<MONTH_DAY_NANO>>',
    nullable: true,
    encoding: 'interval',
    components: 4,
    gpuType: 'i32',
  });
  expect(schema.columns.find((c) => c.name === 'f64')).toMatchObject({
    arrowType: 'RunEndEncoded<Int32, Float64>',
    encoding: 'f64',
    components: 2,
  });
  expect(loaded.map((c) => [c.name, c.arrowType, c.encoding, c.components, c.gpuType])).toEqual(
    schema.columns.map((c) => [c.name, c.arrowType, c.encoding, c.components, c.gpuType]),
  );
});
