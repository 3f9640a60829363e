import { afterAll, describe, expect, it } from 'vitest';
import type { ArrowGpuError } from '../../src/core/errors.js';
import { crossfilterSizes } from '../../src/core/gpu/query/crossfilter-options.js';
import type { CrossfilterResult } from '../../src/types.js';
import { sharedContext } from '../support/dawn.js';
import {
  type CpuBins,
  type CpuBrush,
  cpuCrossfilter,
  defaultRange,
  equalEdges,
} from '../support/histogram-reference.js';
import { queryData } from '../support/query-data.js';
import { type HeldValue, type QueryTable, withQueryTable } from '../support/query-table.js';

// Crossfilters on Dawn: each dimension's histogram over the rows that pass the other dimensions' brushes,
// compared after every brush move with the same counting done on the CPU over the source values, on
// columns split into many chunks.

const SLOW = 600_000;
// One device for the file: each kernel is compiled once (each run still checks errors and leaks).
const gpu = sharedContext();
afterAll(() => gpu.close());

/** A dimension as the test asks for it, and the bins the README says it gets. */
interface DimCase {
  options: { bins?: number; min?: number; max?: number };
  bins: CpuBins;
}

function numericDim(
  values: readonly HeldValue[],
  options: { bins: number; min?: number; max?: number },
): DimCase {
  const range = defaultRange(values);
  const min = options.min ?? range.min;
  const max = options.max ?? range.max;
  return { options, bins: { edges: equalEdges(min, max, options.bins), closed: options.max === undefined } };
}

function dictionaryDim(size: number): DimCase {
  return { options: {}, bins: { edges: Array.from({ length: size + 1 }, (_, i) => i), closed: false } };
}

/** Runs one crossfilter call and compares every dimension with the CPU's. */
async function expectCrossfilter(
  table: QueryTable,
  dims: Record<string, DimCase>,
  brush: Record<string, CpuBrush | null>,
): Promise<CrossfilterResult> {
  const { store, tableId, reference, data } = table;
  const options = { dims: Object.fromEntries(Object.entries(dims).map(([n, d]) => [n, d.options])), brush };
  const got = await store.crossfilter(tableId, options);
  const bins = Object.fromEntries(Object.entries(dims).map(([n, d]) => [n, d.bins]));
  const want = cpuCrossfilter(reference, bins, brush, data.rows);
  const label = `crossfilter with brushes ${JSON.stringify(brush)}`;
  expect({ rows: got.rows, selected: got.selected }, label).toEqual({
    rows: want.rows,
    selected: want.selected,
  });
  expect(Object.keys(got.dims), label).toEqual(Object.keys(dims));
  for (const [name, h] of Object.entries(got.dims)) {
    const { rows, nulls, nans, below, above } = h;
    const counts = Array.from(h.counts);
    expect({ rows, nulls, nans, below, above, counts }, `${label}: ${name}`).toEqual(want.dims[name]);
    expect(Array.from(h.edges), `${label}: ${name} edges`).toEqual(Array.from(dims[name]?.bins.edges ?? []));
  }
  return got;
}

/** Brushes that move across `values`' finite range in `steps` steps, a fifth of it wide. */
function movingBrushes(values: readonly HeldValue[], steps: number): CpuBrush[] {
  const { min, max } = defaultRange(values);
  const width = (max - min) / 5;
  return Array.from({ length: steps }, (_, k) => [
    min + (k * (max - min)) / steps,
    min + (k * (max - min)) / steps + width,
  ]);
}

describe('crossfilter', () => {
  for (const rows of [1000, 1, 0]) {
    it(
      `three dimensions (f32 with NaN and ±Infinity, i64, dictionary) follow moving brushes, ${rows} rows in many chunks`,
      async () => {
        await gpu.run((context) =>
          withQueryTable(context, queryData(rows, 3), async (table) => {
            const { reference } = table;
            const size = rows > 0 ? table.store.dictionary(table.tableId, 'city').length : 0;
            const dims = {
              f32: numericDim(reference.f32 ?? [], { bins: 16 }),
              i64: numericDim(reference.i64 ?? [], { bins: 9 }),
              city: dictionaryDim(size),
            };
            await expectCrossfilter(table, dims, {});
            const f32 = movingBrushes(reference.f32 ?? [], 4);
            const i64 = movingBrushes(reference.i64 ?? [], 3);
            for (const brush of f32) await expectCrossfilter(table, dims, { f32: brush });
            for (const [k, brush] of i64.entries()) {
              await expectCrossfilter(table, dims, { f32: f32[k] as CpuBrush, i64: brush, city: [1, 4] });
            }
            // Brushes reaching ±Infinity, an empty brush, one cleared with null.
            await expectCrossfilter(table, dims, { f32: [-Infinity, 0], i64: null, city: [2, 2] });
            await expectCrossfilter(table, dims, { f32: [0, Infinity], city: [0, 3] });
          }),
        );
      },
      SLOW,
    );
  }

  it(
    'every encoding as a dimension, brushed and explicit ranges, and a change of dimensions',
    async () => {
      await gpu.run((context) =>
        withQueryTable(context, queryData(700, 9), async (table) => {
          const { reference } = table;
          const pick = ['f64', 'i32', 'u32', 'u64', 'flag', 'ts', 'empty'];
          const dims = Object.fromEntries(pick.map((n) => [n, numericDim(reference[n] ?? [], { bins: 6 })]));
          const brush = Object.fromEntries(
            pick.map((n) => [n, movingBrushes(reference[n] ?? [], 3)[1] as CpuBrush]),
          );
          await expectCrossfilter(table, dims, brush);
          await expectCrossfilter(table, dims, { ...brush, flag: [1, 2], empty: [0, 1] });
          const { min, max } = defaultRange(reference.f64 ?? []);
          const f64 = numericDim(reference.f64 ?? [], { bins: 10, min: min / 2, max: max / 2 });
          const u32 = numericDim(reference.u32 ?? [], { bins: 4, max: 2 ** 31 });
          await expectCrossfilter(table, { f64, u32 }, { f64: [min / 4, max / 4] });
        }),
      );
    },
    SLOW,
  );

  it(
    'keeps its per-row state across brush moves, rewrites only the moved brush, and frees it when replaced',
    async () => {
      await gpu.run((context, probe) =>
        withQueryTable(context, queryData(500, 4), async (table) => {
          const { reference } = table;
          const dims = {
            f32: numericDim(reference.f32 ?? [], { bins: 8 }),
            u32: numericDim(reference.u32 ?? [], { bins: 8 }),
          };
          const [a, b] = movingBrushes(reference.f32 ?? [], 2) as [CpuBrush, CpuBrush];
          const u32 = movingBrushes(reference.u32 ?? [], 2)[0] as CpuBrush;
          await expectCrossfilter(table, dims, { f32: a, u32 });
          const created = probe.buffers.length;
          const writes = probe.writes;
          await expectCrossfilter(table, dims, { f32: b, u32 });
          expect(probe.buffers.length, 'buffers made by a brush move').toBe(created);
          // The moved brush's parameters and the counting layout: nothing for the brush that stayed.
          expect(probe.writes - writes, 'queue writes of a brush move').toBe(2);
          const live = probe.live().length;
          await expectCrossfilter(table, { u32: dims.u32 }, {});
          expect(
            probe.live().length,
            'live buffers once a smaller crossfilter replaced the first',
          ).toBeLessThan(live);
        }),
      );
    },
    SLOW,
  );

  it(
    'counts more slots than workgroup memory holds: 300 bins (a larger workgroup table) and 3 × 600 bins (global counters)',
    async () => {
      await gpu.run((context) =>
        withQueryTable(context, queryData(2000, 8), async (table) => {
          const { reference } = table;
          const one = { f64: numericDim(reference.f64 ?? [], { bins: 300 }) };
          await expectCrossfilter(table, one, { f64: movingBrushes(reference.f64 ?? [], 3)[1] as CpuBrush });
          const three = {
            f64: numericDim(reference.f64 ?? [], { bins: 600 }),
            i32: numericDim(reference.i32 ?? [], { bins: 600 }),
            u64: numericDim(reference.u64 ?? [], { bins: 600 }),
          };
          await expectCrossfilter(table, three, {
            i32: movingBrushes(reference.i32 ?? [], 3)[2] as CpuBrush,
          });
        }),
      );
    },
    SLOW,
  );
});

async function expectInvalid(promise: Promise<unknown>, option: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: ArrowGpuError) => e,
  );
  expect(error, `${option} refused`).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option } });
  expect((error as Error).message).toMatch(message);
}

describe('crossfilter misuse', () => {
  it(
    'refuses bad dims and brushes with INVALID_ARGUMENT naming the option; unknown columns are NO_SUCH_COLUMN',
    async () => {
      await gpu.run((context) =>
        withQueryTable(context, queryData(100), async ({ store, tableId }) => {
          const c = (options: unknown) => store.crossfilter(tableId, options);
          await expectInvalid(c(undefined), 'options', /options must be an object, got undefined/);
          await expectInvalid(c({ dims: {} }), 'dims', /dims must be an object of 1 to 16 dimensions.*got 0/);
          const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`c${i}`, { bins: 2 }]));
          await expectInvalid(c({ dims: seventeen }), 'dims', /got 17/);
          await expectInvalid(
            c({ dims: { f32: { bins: 0 } } }),
            'dims.f32.bins',
            /an integer from 1 to 65532, got 0/,
          );
          await expectInvalid(c({ dims: { f32: { bins: 65533 } } }), 'dims.f32.bins', /got 65533/);
          await expectInvalid(c({ dims: { f32: 4 } }), 'dims.f32', /dims.f32 must be an object, got 4/);
          await expectInvalid(c({ dims: { city: { bins: 3 } } }), 'dims.city.bins', /left out/);
          const dims = { f32: { bins: 4 }, i32: { bins: 4 } };
          await expectInvalid(c({ dims, brush: 3 }), 'brush', /brush must be an object/);
          await expectInvalid(
            c({ dims, brush: { u32: [0, 1] } }),
            'brush.u32',
            /a dimension named in dims \("f32", "i32"\)/,
          );
          await expectInvalid(c({ dims, brush: { f32: [2, 1] } }), 'brush.f32[1]', /lo ≤ hi, got 1/);
          await expectInvalid(c({ dims, brush: { f32: [Number.NaN, 1] } }), 'brush.f32[0]', /got NaN/);
          await expectInvalid(c({ dims, brush: { f32: 5 } }), 'brush.f32', /null or \[lo, hi\]/);
          await expect(c({ dims: { nope: { bins: 2 } } })).rejects.toMatchObject({
            code: 'NO_SUCH_COLUMN',
            details: { column: 'nope' },
          });
          // Still usable, and a refused call left no state behind.
          expect((await c({ dims })).rows).toBe(100);
        }),
      );
    },
    SLOW,
  );

  it('fails with LIMIT_EXCEEDED naming the sizes when the per-row bin codes would not fit one binding', () => {
    const limits = { maxStorageBufferBindingSize: 128 << 20, maxBufferSize: 256 << 20 };
    expect(crossfilterSizes(10_000_000, 6, limits)).toEqual({ codeWords: 5_000_000, maskWords: 312_500 });
    let error: unknown;
    try {
      crossfilterSizes(50_000_000, 3, limits);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { expected: 128 << 20, actual: 300_000_000 },
    });
    expect(String((error as Error).message)).toMatch(
      /3 dimensions of 50000000 rows need 286\.1 MiB .* over the device's maxStorageBufferBindingSize of 128\.0 MiB/,
    );
  });
});
