import { tableFromIPC, type Vector } from 'apache-arrow';
import {
  type CpuBins,
  type CpuBrush,
  cpuCrossfilter,
  cpuHistogram,
  defaultRange,
  equalEdges,
} from '../test/support/histogram-reference.js';
import type { HeldValue } from '../test/support/query-table.js';
import { expect, fixtureBytes, test } from './support.js';

// Histograms and crossfilters through the real worker and Comlink, on columns split into chunks of 4 KiB,
// compared with the same counting done on the CPU over the source values (as the GPU holds them: Float64
// through Math.fround, strings as dictionary codes).

/** A histogram as plain data (typed arrays do not cross `evaluate`). */
interface PlainHistogram {
  rows: number;
  edges: number[];
  counts: number[];
  nulls: number;
  nans: number;
  below: number;
  above: number;
}

/** A fixture column's values as the GPU holds them with the default encodings. */
function held(fixture: string, name: string, dictionary?: readonly unknown[]): HeldValue[] {
  const vector = tableFromIPC(fixtureBytes(fixture)).getChild(name) as Vector;
  const f64 = String(vector.type) === 'Float64';
  return Array.from({ length: vector.length }, (_, i) => {
    if (!vector.isValid(i)) return null;
    const v = vector.get(i) as number | string;
    if (dictionary) return dictionary.indexOf(v);
    return f64 ? Math.fround(v as number) : (v as number);
  });
}

function numericBins(values: readonly HeldValue[], bins: number, min?: number, max?: number): CpuBins {
  const range = defaultRange(values);
  return { edges: equalEdges(min ?? range.min, max ?? range.max, bins), closed: max === undefined };
}

function expectHistogram(
  label: string,
  got: PlainHistogram,
  values: readonly HeldValue[],
  bins: CpuBins,
): void {
  const { edges, ...counted } = got;
  expect(counted, label).toEqual(cpuHistogram(values, bins));
  expect(edges, `${label}: edges`).toEqual(Array.from(bins.edges));
}

test('histogram through the worker equals the CPU binning of the source values', async ({ harnessPage }) => {
  const fixture = 'many-batches.stream';
  const cases = [
    { name: 'f32', bins: 16 },
    { name: 'f64', bins: 33 },
    { name: 'i8', bins: 7 },
    { name: 'u16', bins: 64 },
    { name: 'i32', bins: 5 },
    { name: 'f32', bins: 10, min: -500, max: 500 },
    { name: 'u8', bins: 300 },
  ];
  const result = await harnessPage.evaluate(
    async ({ fixture, cases }) => {
      const loader = await window.harness.lib.createLoader({ chunkBytes: 4096 });
      try {
        const table = await loader.load(`/data/${fixture}`);
        const out = [];
        for (const { name, ...options } of cases) {
          const h = await table.histogram(name, options);
          out.push({ ...h, edges: Array.from(h.edges), counts: Array.from(h.counts) });
        }
        return { histograms: out, chunks: table.columns[0]?.chunks.length ?? 0 };
      } finally {
        await loader.close();
      }
    },
    { fixture, cases },
  );
  expect(result.chunks).toBeGreaterThan(10);
  for (const [k, { name, bins, min, max }] of cases.entries()) {
    const values = held(fixture, name);
    const got = result.histograms[k] as PlainHistogram;
    expectHistogram(`histogram(${name}, ${bins})`, got, values, numericBins(values, bins, min, max));
    expect(got.rows).toBe(values.length);
  }
});

test('crossfilter through the worker follows moving brushes as the CPU does; a dictionary bins by code', async ({
  harnessPage,
}) => {
  const fixture = 'with-strings.stream';
  const brushes: Array<Record<string, CpuBrush | null>> = [
    {},
    { b: [-200_000, 100_000] },
    { b: [0, 300_000], s: [10, 400] },
    { b: [100_000, 400_000], s: [10, 400], a: [-1e9, 1e9] },
    { a: [0, 2e9], b: null },
  ];
  const result = await harnessPage.evaluate(
    async ({ fixture, brushes }) => {
      const loader = await window.harness.lib.createLoader({ chunkBytes: 4096 });
      try {
        const table = await loader.load(`/data/${fixture}`, { columns: ['a', 's', 'b'] });
        const plain = (h: import('../src/index.js').Histogram) => ({
          ...h,
          edges: Array.from(h.edges),
          counts: Array.from(h.counts),
        });
        const dims = { a: { bins: 12 }, s: {}, b: { bins: 20 } };
        const steps = [];
        for (const brush of brushes) {
          const r = await table.crossfilter({ dims, brush });
          const each = Object.fromEntries(Object.entries(r.dims).map(([n, h]) => [n, plain(h)]));
          steps.push({ rows: r.rows, selected: r.selected, dims: each });
        }
        const s = plain(await table.histogram('s'));
        return { steps, s, dictionary: await table.dictionary('s') };
      } finally {
        await loader.close();
      }
    },
    { fixture, brushes },
  );
  const columns = {
    a: held(fixture, 'a'),
    s: held(fixture, 's', result.dictionary),
    b: held(fixture, 'b'),
  };
  const size = result.dictionary.length;
  const codes: CpuBins = { edges: Array.from({ length: size + 1 }, (_, i) => i), closed: false };
  expectHistogram('histogram(s)', result.s, columns.s, codes);
  const bins = { a: numericBins(columns.a, 12), s: codes, b: numericBins(columns.b, 20) };
  for (const [k, brush] of brushes.entries()) {
    const want = cpuCrossfilter(columns, bins, brush, columns.a.length);
    const got = result.steps[k] as (typeof result.steps)[number];
    const label = `brushes ${JSON.stringify(brush)}`;
    expect({ rows: got.rows, selected: got.selected }, label).toEqual({
      rows: want.rows,
      selected: want.selected,
    });
    for (const name of ['a', 's', 'b'] as const) {
      const { edges, ...counted } = got.dims[name] as PlainHistogram;
      expect(counted, `${label}: ${name}`).toEqual(want.dims[name]);
      expect(edges).toEqual(Array.from(bins[name].edges));
    }
  }
});

test('misuse of histogram and crossfilter rejects with typed errors through Comlink and leaks nothing', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { settle, lib } = window.harness;
    const loader = await lib.createLoader();
    try {
      const before = await loader.memory();
      const table = await loader.load('/data/one-batch.stream');
      const errors = {
        bins: await settle(table.histogram('f32', { bins: 0 })),
        range: await settle(table.histogram('f64', { bins: 4, min: 3, max: 1 })),
        column: await settle(table.histogram('nope', { bins: 4 })),
        brush: await settle(table.crossfilter({ dims: { f32: { bins: 4 } }, brush: { x: [0, 1] } })),
        dimBins: await settle(table.crossfilter({ dims: { f32: { bins: 70_000 } } })),
        dims: await settle(table.crossfilter({ dims: {} })),
      };
      const ok = await table.crossfilter({
        dims: { f32: { bins: 4 }, i32: { bins: 4 } },
        brush: { f32: [0, 1] },
      });
      await table.destroy();
      const destroyed = await settle(table.histogram('f32', { bins: 4 }));
      await loader.trim();
      return { errors, destroyed, okRows: ok.rows, before, after: await loader.memory() };
    } finally {
      await loader.close();
    }
  });
  const invalid = (option: string) => ({
    ok: false,
    code: 'INVALID_ARGUMENT',
    name: 'ArgumentError',
    isArrowGpuError: true,
    details: expect.objectContaining({ option }),
  });
  const { errors } = result;
  expect(errors.bins).toMatchObject(invalid('bins'));
  expect(errors.bins.message).toContain('histogram: bins must be an integer from 1 to 1048576, got 0');
  expect(errors.range).toMatchObject(invalid('max'));
  expect(errors.range.message).toContain('max must be above min (3), got 1');
  expect(errors.column).toMatchObject({
    code: 'NO_SUCH_COLUMN',
    name: 'ColumnError',
    details: { column: 'nope' },
  });
  expect(errors.brush).toMatchObject(invalid('brush.x'));
  expect(errors.brush.message).toContain('a dimension named in dims ("f32")');
  expect(errors.dimBins).toMatchObject(invalid('dims.f32.bins'));
  expect(errors.dimBins.message).toContain('an integer from 1 to 65532, got 70000');
  expect(errors.dims).toMatchObject(invalid('dims'));
  expect(result.okRows).toBe(1001);
  expect(result.destroyed).toMatchObject({ code: 'NO_SUCH_COLUMN', isArrowGpuError: true });
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.before.liveBuffers,
    result.before.liveBytes,
  ]);
});
