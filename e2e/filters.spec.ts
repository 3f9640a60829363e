import { type Table, tableFromIPC } from 'apache-arrow';
import type { ColumnSummary, Predicate } from '../src/types.js';
import { evaluate, printPredicate, type RowValue } from '../test/support/predicates.js';
import { referenceSummary } from '../test/support/query-data.js';
import { expect, fixtureBytes, test } from './support.js';

// Filters through the whole library: loaded in the worker in small chunks, filtered and described there
// over Comlink, the counts and summaries compared with the same predicates evaluated here over the
// source; misuse rejected with its code whether the page or the worker finds it.

const ENCODINGS = { f64: 'f64', ts: 'f32-relative' } as const;
const T0 = 1767225600000;

const PREDICATES: Predicate[] = [
  { column: 'i32', range: [-(2 ** 30), 2 ** 30] },
  { column: 'f64', range: [-1e11, 2n ** 40n] },
  { and: [{ column: 'f32', range: [0, Infinity] }, { not: { column: 'flag', in: [true] } }] },
  {
    or: [
      { column: 'name', in: ['name-3', 'name-17', 'nobody'] },
      { column: 'category', in: ['blue', 'b2'] },
    ],
  },
  { column: 'i64', range: [-(2n ** 61n), 2n ** 61n] },
  { column: 'u64', in: [0n, 2n ** 53n * 2048n] },
  { not: { column: 'u8', range: [10, 200] } },
  {
    and: [
      { column: 'ts', range: [T0, T0 + 43_200_000] },
      { column: 'digest', isNull: false },
    ],
  },
  { or: [{ column: 'xy', isNull: true }, { and: [] }] },
  { column: 'nothing', isNull: true },
  { column: 'i16', in: [] },
];

/** Columns described over each filter in turn, each with an exact sum or none. */
const DESCRIBED = ['i32', 'i64', 'u8', 'flag', 'category'];

/** The values the GPU holds for a top-level column of the source, as predicates compare them. */
function sourceValues(source: Table, name: string, offset: number): RowValue[] {
  const vector = source.getChild(name);
  return Array.from({ length: source.numRows }, (_, row) => {
    if (!vector?.isValid(row)) return null;
    const v = vector.get(row) as RowValue;
    if (name === 'ts') return Math.fround(Number(v) - offset) + offset;
    return v;
  });
}

test('filter, then describe over it, agree with the CPU on every queryable encoding, in chunks', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(
    async ({ predicates, described, encodings }) => {
      const loader = await window.harness.lib.createLoader({ chunkBytes: 256 });
      const memory = async () => {
        await loader.trim();
        return loader.memory();
      };
      try {
        const before = await memory();
        const table = await loader.load('/data/every-type.stream', { encodings });
        const out: Array<{ count: number; rows: number; summary: ColumnSummary }> = [];
        for (const [k, predicate] of predicates.entries()) {
          const filter = await table.filter(predicate);
          const summary = await table.describe(described[k % described.length] as string, { filter });
          out.push({ count: filter.count, rows: filter.rows, summary });
          await filter.destroy();
        }
        const warm = await memory();
        const kept = await table.filter(predicates[0] as Predicate);
        const withKept = await memory();
        await table.destroy();
        const end = await memory();
        return { columns: table.columns, out, before, warm, withKept, end, kept: kept.count };
      } finally {
        await loader.close();
      }
    },
    { predicates: PREDICATES, described: DESCRIBED, encodings: ENCODINGS },
  );
  const source = tableFromIPC(fixtureBytes('every-type.stream'));
  const offset = Number(result.columns.find((c) => c.name === 'ts')?.offset);
  const values = Object.fromEntries(
    source.schema.fields.map((f) => [f.name, sourceValues(source, f.name, offset)]),
  );
  // Chunks of 256 bytes: 64 rows of 32-bit columns, 32 of 64-bit ones.
  expect(result.columns.find((c) => c.name === 'i64')?.chunks.length).toBe(Math.ceil(source.numRows / 32));
  for (const [k, predicate] of PREDICATES.entries()) {
    const label = printPredicate(predicate);
    const keep = (row: number) => evaluate(predicate, (column) => values[column]?.[row] ?? null);
    const got = result.out[k];
    const kept = Array.from({ length: source.numRows }, (_, row) => row).filter(keep).length;
    expect({ count: got?.count, rows: got?.rows }, label).toEqual({ count: kept, rows: source.numRows });
    const name = DESCRIBED[k % DESCRIBED.length] as string;
    const dictionary = [...new Set(values[name]?.filter((v) => v !== null))];
    const numeric = (values[name] ?? []).map((v) => {
      if (typeof v === 'boolean') return Number(v);
      if (typeof v === 'string') return dictionary.indexOf(v);
      return v as number | bigint | null;
    });
    const reference = referenceSummary(numeric, keep);
    const summary = got?.summary as ColumnSummary;
    expect([summary.rows, summary.count, summary.nullCount], `${name} where ${label}`).toEqual([
      reference.rows,
      reference.count,
      reference.nullCount,
    ]);
    if (name === 'category') continue; // codes follow the worker's dictionary order, not this one
    expect([summary.min, summary.max], `${name} where ${label}`).toEqual([reference.min, reference.max]);
    const sum = name === 'flag' ? reference.sum : BigInt(reference.sum as number | bigint);
    expect(summary.sum, `${name} where ${label}`).toBe(sum);
  }
  // A filter holds one buffer, its mask, until destroyed; the table's destroy frees the rest.
  expect(result.kept).toBe(result.out[0]?.count);
  expect([result.withKept.liveBuffers, result.withKept.liveBytes]).toEqual([
    result.warm.liveBuffers + 1,
    result.warm.liveBytes + Math.ceil(source.numRows / 32) * 4,
  ]);
  expect([result.end.liveBuffers, result.end.liveBytes]).toEqual([
    result.before.liveBuffers,
    result.before.liveBytes,
  ]);
});

test('misuse is rejected with its code and details, from the page or through the worker', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { settle, lib } = window.harness;
    const loader = await lib.createLoader();
    const other = await lib.createLoader();
    try {
      const table = await loader.load('/data/every-type.stream');
      const elsewhere = await other.load('/data/every-type.stream');
      const foreign = await elsewhere.filter({ column: 'i32', isNull: false });
      const destroyed = await table.filter({ column: 'i32', isNull: false });
      await destroyed.destroy();
      const outcomes = {
        noColumn: await settle(table.filter({ column: 'nope', range: [0, 1] })),
        rangeOnDictionary: await settle(table.filter({ and: [{ column: 'name', range: [0, 1] }] })),
        nanBound: await settle(table.filter({ or: [{ column: 'i32', range: [0, Number.NaN] }] })),
        functionValue: await settle(table.filter({ column: 'i32', in: [() => 1] } as never)),
        unknownKey: await settle(table.filter({ not: { column: 'i32', isNull: true, also: 1 } } as never)),
        destroyedFilter: await settle(table.describe('i32', { filter: destroyed })),
        foreignFilter: await settle(table.describe('i32', { filter: foreign })),
        notAFilter: await settle(table.describe('i32', { filter: {} as never })),
        describeOther: await settle(table.describe('name', { filter: foreign })),
      };
      await table.destroy();
      const afterDestroy = await settle(table.filter({ column: 'i32', isNull: false }));
      return { ...outcomes, afterDestroy };
    } finally {
      await loader.close();
      await other.close();
    }
  });
  const fields = (s: (typeof result)[keyof typeof result]) => ({
    ok: s.ok,
    code: s.code,
    isArrowGpuError: s.isArrowGpuError,
    ...s.details,
  });
  // Found by the worker: the column, its encoding.
  expect(fields(result.noColumn)).toEqual({
    ok: false,
    code: 'NO_SUCH_COLUMN',
    isArrowGpuError: true,
    column: 'nope',
  });
  expect(fields(result.rangeOnDictionary)).toEqual({
    ok: false,
    code: 'INVALID_ARGUMENT',
    isArrowGpuError: true,
    column: 'name',
    option: 'predicate.and[0].range',
  });
  expect(result.rangeOnDictionary.message).toMatch(/"name".*dictionary/);
  expect(fields(result.destroyedFilter)).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'filter' });
  expect(result.destroyedFilter.message).toMatch(/was destroyed/);
  expect(fields(result.afterDestroy)).toMatchObject({ code: 'NO_SUCH_COLUMN', isArrowGpuError: true });
  // Found in the page, before anything is cloned for the worker.
  expect(fields(result.nanBound)).toEqual({
    ok: false,
    code: 'INVALID_ARGUMENT',
    isArrowGpuError: true,
    column: 'i32',
    option: 'predicate.or[0].range',
  });
  expect(result.nanBound.message).toMatch(/"i32" \(i32\).*NaN/);
  expect(fields(result.functionValue)).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'predicate.in[0]' });
  expect(fields(result.unknownKey)).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'predicate.not.also' });
  for (const misuse of [result.foreignFilter, result.notAFilter, result.describeOther]) {
    expect(fields(misuse)).toMatchObject({
      code: 'INVALID_ARGUMENT',
      isArrowGpuError: true,
      option: 'filter',
    });
  }
  expect(result.foreignFilter.message).toMatch(/another table/);
});
