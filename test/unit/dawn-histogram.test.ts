import { Field, FixedSizeList, Float32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArrowGpuError } from '../../src/core/errors.js';
import type { Histogram } from '../../src/types.js';
import { sharedContext } from '../support/dawn.js';
import {
  type CpuBins,
  type CpuHistogram,
  cpuHistogram,
  defaultRange,
  equalEdges,
} from '../support/histogram-reference.js';
import { type QueryData, queryData } from '../support/query-data.js';
import { type HeldValue, type QueryTable, withQueryTable } from '../support/query-table.js';

// Histograms on Dawn, compared with the same binning done on the CPU over the values the table was made
// from, with the same f64 edges: every encoding queries read, on columns split into many chunks (chunks
// of 512 bytes: 128 rows of 32-bit values, 64 of 64-bit ones).

/** f32, f64, i32, u32, i64, u64, bool, f32-relative, and an all-null f32 column. */
const NUMERIC = ['f32', 'f64', 'i32', 'u32', 'i64', 'u64', 'flag', 'ts', 'empty'];
const SLOW = 600_000;
// One device for the file: each kernel is compiled once (each run still checks errors and leaks).
const gpu = sharedContext();
afterAll(() => gpu.close());

function expectHistogram(label: string, got: Histogram, want: CpuHistogram, bins: CpuBins): void {
  const { rows, nulls, nans, below, above } = got;
  expect({ rows, nulls, nans, below, above, counts: Array.from(got.counts) }, label).toEqual(want);
  expect(Array.from(got.edges), `${label}: edges`).toEqual(Array.from(bins.edges));
}

/** Histograms of `name` with `options`, on the GPU and on the CPU with the edges the README gives. */
async function compare(
  { store, tableId, reference }: QueryTable,
  name: string,
  options: { bins: number; min?: number; max?: number },
): Promise<void> {
  const values = reference[name] as HeldValue[];
  const range = defaultRange(values);
  const min = options.min ?? range.min;
  const max = options.max ?? range.max;
  const bins = { edges: equalEdges(min, max, options.bins), closed: options.max === undefined };
  const got = await store.histogram(tableId, name, options);
  expectHistogram(`histogram(${name}, ${JSON.stringify(options)})`, got, cpuHistogram(values, bins), bins);
}

/** Ranges inside a column's data: edges on stored values, and edges halfway between two stored values. */
function rangesIn(values: readonly HeldValue[]): Array<{ min: number; max: number }> {
  const finite = [...new Set(values.filter((v) => v !== null && Number.isFinite(Number(v))))].sort((a, b) =>
    (a as number) < (b as number) ? -1 : 1,
  );
  if (finite.length < 8) return [];
  const at = (q: number) => Number(finite[Math.floor(q * (finite.length - 1))]);
  const between = (q: number) => {
    const i = Math.floor(q * (finite.length - 2));
    return (Number(finite[i]) + Number(finite[i + 1])) / 2;
  };
  return [
    { min: at(0.2), max: at(0.7) },
    { min: between(0.1), max: between(0.9) },
    { min: at(0), max: at(1) },
  ];
}

describe('histogram', () => {
  for (const rows of [1000, 1, 0]) {
    it(
      `bins every encoding's finite extent as the CPU does, on ${rows} rows in many chunks`,
      async () => {
        await gpu.run((context) =>
          withQueryTable(context, queryData(rows), async (table) => {
            for (const name of NUMERIC) {
              for (const bins of [7, 1]) await compare(table, name, { bins });
            }
            // A dictionary column: one bin per dictionary value, codes 0…n as edges.
            const size = rows > 0 ? table.store.dictionary(table.tableId, 'city').length : 0;
            const codes = { edges: Array.from({ length: size + 1 }, (_, i) => i), closed: false };
            const city = await table.store.histogram(table.tableId, 'city');
            expectHistogram('histogram(city)', city, cpuHistogram(table.reference.city ?? [], codes), codes);
            expect(city.rows).toBe(rows);
          }),
        );
      },
      SLOW,
    );
  }

  it(
    'takes explicit ranges exactly: edges on stored values, between them, one end given, outside the data',
    async () => {
      await gpu.run((context) =>
        withQueryTable(context, queryData(1000, 11), async (table) => {
          for (const name of NUMERIC.filter((n) => n !== 'empty')) {
            const values = table.reference[name] as HeldValue[];
            for (const range of rangesIn(values)) await compare(table, name, { bins: 5, ...range });
            const { min, max } = defaultRange(values);
            await compare(table, name, { bins: 3, min: (min + max) / 2 });
            await compare(table, name, { bins: 3, max: (min + max) / 2 });
            await compare(table, name, { bins: 2, min: max + 1, max: max + 2 + Math.abs(max) });
          }
        }),
      );
    },
    SLOW,
  );

  it(
    'counts more bins than workgroup memory holds: 300 (a larger workgroup table) and 5000 (global counters)',
    async () => {
      await gpu.run((context) =>
        withQueryTable(context, queryData(3000, 5), async (table) => {
          for (const bins of [300, 5000]) await compare(table, 'f64', { bins });
        }),
      );
    },
    SLOW,
  );

  it(
    'with { filter } counts only the rows the filter keeps, its range taken from those rows',
    async () => {
      await gpu.run((context) =>
        withQueryTable(context, queryData(1000), async ({ store, tableId, reference }) => {
          const i32 = reference.i32 as HeldValue[];
          const { min, max } = rangesIn(i32)[0] as { min: number; max: number };
          const filter = await store.filter(tableId, { column: 'i32', range: [min, max] });
          const kept = (values: readonly HeldValue[]) =>
            values.filter((_, row) => i32[row] !== null && Number(i32[row]) >= min && Number(i32[row]) < max);
          expect(filter.count).toBe(kept(i32).length);
          for (const name of ['f64', 'u64', 'ts']) {
            const values = kept(reference[name] as HeldValue[]);
            const range = defaultRange(values);
            const bins = { edges: equalEdges(range.min, range.max, 9), closed: true };
            const got = await store.histogram(tableId, name, { bins: 9 }, { filterId: filter.filterId });
            expectHistogram(
              `histogram(${name}) over i32 in [${min}, ${max})`,
              got,
              cpuHistogram(values, bins),
              bins,
            );
          }
          store.destroyFilter(tableId, filter.filterId);
          const gone = store.histogram(tableId, 'f64', { bins: 9 }, { filterId: filter.filterId });
          await expect(gone).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        }),
      );
    },
    SLOW,
  );
});

/** Rejects with INVALID_ARGUMENT naming `option`, the message saying what was expected. */
async function expectInvalid(promise: Promise<unknown>, option: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: ArrowGpuError) => e,
  );
  expect(error, `${option} refused`).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option } });
  expect((error as Error).message).toMatch(message);
}

describe('histogram misuse', () => {
  it(
    'refuses bad bins, min and max with INVALID_ARGUMENT naming the option, expected against actual',
    async () => {
      await gpu.run((context) =>
        withQueryTable(context, queryData(200), async ({ store, tableId }) => {
          const h = (name: string, options: unknown) => store.histogram(tableId, name, options);
          for (const bins of [0, -3, 1.5, '8', undefined, 2 ** 20 + 1, Number.NaN]) {
            await expectInvalid(h('f32', { bins }), 'bins', /bins must be an integer from 1 to 1048576, got/);
          }
          for (const bad of [Number.NaN, Infinity, -Infinity, '0', 1n]) {
            await expectInvalid(h('f32', { bins: 4, min: bad }), 'min', /min must be a finite number/);
            await expectInvalid(h('i64', { bins: 4, max: bad }), 'max', /max must be a finite number/);
          }
          await expectInvalid(
            h('f32', { bins: 4, min: 5, max: 5 }),
            'max',
            /max must be above min \(5\), got 5/,
          );
          await expectInvalid(
            h('f32', { bins: 4, min: 1e12 }),
            'min',
            /below max .*largest finite value.*got 1000000000000/,
          );
          await expectInvalid(
            h('u32', { bins: 4, max: -1 }),
            'max',
            /above min .*smallest finite value.*got -1/,
          );
          await expectInvalid(h('f32', 8), 'options', /options must be an object, got 8/);
          await expectInvalid(h('f32', undefined), 'options', /options must be an object, got undefined/);
          await expectInvalid(
            h('city', { bins: 4 }),
            'bins',
            /left out: a dictionary column has one bin per/,
          );
          await expectInvalid(h('city', { min: 0 }), 'min', /left out/);
          // The table is still usable after every refusal.
          expect((await h('f32', { bins: 2 })).rows).toBe(200);
        }),
      );
    },
    SLOW,
  );

  it('names the column: unknown is NO_SUCH_COLUMN, a vector is INVALID_ARGUMENT, a destroyed table NO_SUCH_COLUMN', async () => {
    await gpu.run(async (context) => {
      const table = new Table({
        x: vectorFromArray([1, 2, 3], new Float32()),
        xy: vectorFromArray([[1, 2], [3, 4], null], new FixedSizeList(2, new Field('v', new Float32()))),
      });
      const data: QueryData = { rows: 3, bytes: tableToIPC(table, 'stream'), values: {} };
      await withQueryTable(context, data, async ({ store, tableId }) => {
        await expect(store.histogram(tableId, 'nope', { bins: 2 })).rejects.toMatchObject({
          code: 'NO_SUCH_COLUMN',
          details: { column: 'nope' },
        });
        const error = await store.histogram(tableId, 'xy', { bins: 2 }).catch((e: ArrowGpuError) => e);
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { column: 'xy' } });
        expect((error as Error).message).toMatch(/histogram cannot read column "xy": its encoding is vector/);
        store.destroy(tableId);
        await expect(store.histogram(tableId, 'x', { bins: 2 })).rejects.toMatchObject({
          code: 'NO_SUCH_COLUMN',
        });
      });
    });
  });
});
