import {
  Binary,
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  Null,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import { TableStore } from '../../src/core/service/table-store.js';
import type { Predicate } from '../../src/types.js';
import { whole } from '../support/byte-sources.js';
import { readBytes, withContext } from '../support/dawn.js';
import { xorshift } from '../support/mutate.js';
import {
  type ColumnTests,
  evaluate,
  maskOf,
  printPredicate,
  type RowValue,
  randomPredicate,
} from '../support/predicates.js';
import { queryData, referenceSummary } from '../support/query-data.js';
import { expectSummary, type QueryTable, withQueryTable } from '../support/query-table.js';

// Filters on Dawn: every mask read back bit by bit, its count and describe over it compared with the
// same predicate evaluated on the CPU over the values the table was made from, on columns split into
// many chunks (512 bytes: 128 rows of a 32-bit column, 64 of a 64-bit one).

const EPOCH = 1767225600000;

/** How random predicates test each column of `queryData`. */
function columnTests(
  values: Record<string, RowValue[]>,
  source: Record<string, unknown[]>,
): Record<string, ColumnTests> {
  const inf = [-Infinity, Infinity];
  const of = (name: string) => values[name] ?? [];
  return {
    f32: {
      values: of('f32'),
      range: true,
      others: [0.1, 0, -0, Math.fround(0.1), ...inf],
      extremes: [...inf, -1e300, 2n ** 70n, 0],
    },
    f64: {
      values: of('f64'),
      range: true,
      others: [0.5, 2n ** 53n + 1n, 2n ** 60n, ...inf],
      extremes: [...inf, -(2n ** 80n), 2n ** 53n + 1n, -0],
    },
    i32: {
      values: of('i32'),
      range: true,
      others: [0.5, 2 ** 31, -(2 ** 31) - 1, 7n ** 30n],
      extremes: [...inf, -(2n ** 31n), 2n ** 31n, 1e20, -1e20, 1.5],
    },
    u32: {
      values: of('u32'),
      range: true,
      others: [-1, 2 ** 32, 0.5, 0],
      extremes: [...inf, -5, 2 ** 32, 2n ** 40n, 0, 2 ** 31 + 0.5],
    },
    i64: {
      values: of('i64'),
      range: true,
      others: [2 ** 63, 0.5, 2n ** 63n, -(2 ** 62)],
      extremes: [...inf, -(2n ** 63n), 2n ** 63n - 1n, 2 ** 62, -(2 ** 63)],
    },
    u64: {
      values: of('u64'),
      range: true,
      others: [-1n, 2n ** 64n, 2 ** 63],
      extremes: [...inf, 0n, 2n ** 64n - 1n, 2n ** 64n, -1, 2 ** 64, 2 ** 63],
    },
    flag: {
      values: of('flag'),
      range: true,
      others: [0, 1, 1n, 2, -1, 0.5, true, false],
      extremes: [...inf, 0, 1, 2, 0.5],
    },
    city: { values: of('city'), range: false, others: ['Nowhere', 'oslo', ''], extremes: [] },
    // The source's timestamps are mostly not what the GPU holds (f32 steps of 8 ms around the offset).
    ts: {
      values: of('ts'),
      range: true,
      others: [...((source.ts ?? []).slice(0, 3).filter((v) => v !== null) as number[]), BigInt(EPOCH)],
      extremes: [...inf, EPOCH, BigInt(EPOCH) + 1n, EPOCH + 43_200_000.5],
    },
    empty: { values: of('empty'), range: true, others: [0, 1], extremes: [...inf, 0] },
  };
}

/** One of each column test on every column: ranges and lists from its own values, both null tests. */
function everyTest(tests: Record<string, ColumnTests>): Predicate[] {
  const out: Predicate[] = [];
  for (const [column, t] of Object.entries(tests)) {
    const present = t.values.filter((v) => v !== null && !(typeof v === 'number' && Number.isNaN(v)));
    const a = present[0] ?? t.others[0];
    const b = present[present.length >> 1] ?? t.others[0];
    out.push({ column, isNull: true }, { column, isNull: false });
    out.push({ column, in: [a, b, ...t.others].filter((v) => v !== undefined) as never });
    if (t.range) {
      const x = typeof a === 'boolean' ? Number(a) : (a as number | bigint);
      const y = typeof b === 'boolean' ? Number(b) : (b as number | bigint);
      out.push(
        { column, range: x <= y ? [x, y] : [y, x] },
        { not: { column, range: [-Infinity, Infinity] } },
      );
    }
  }
  return out;
}

/** Makes a filter of `predicate` and checks its mask bit by bit, its count and its row count. */
async function expectFilter(
  { store, tableId, data, values }: QueryTable,
  context: Parameters<Parameters<typeof withContext>[0]>[0],
  predicate: Predicate,
): Promise<{ filterId: number; keep: (row: number) => boolean }> {
  const label = printPredicate(predicate);
  const snapshot = await store.filter(tableId, predicate);
  const keep = (row: number) => evaluate(predicate, (column) => values[column]?.[row] ?? null);
  const expected = maskOf(data.rows, keep);
  const mask = await store.mask(tableId, snapshot.filterId);
  const got = new Uint32Array(
    (await readBytes(context.device, context.tracker, mask, expected.byteLength)).buffer,
  );
  expect({ rows: snapshot.rows, count: snapshot.count }, label).toEqual({
    rows: data.rows,
    count: expected.reduce((n, w) => n + popcount(w), 0),
  });
  expect(Array.from(got), label).toEqual(Array.from(expected));
  return { filterId: snapshot.filterId, keep };
}

function popcount(word: number): number {
  let n = 0;
  for (let w = word >>> 0; w !== 0; w >>>= 1) n += w & 1;
  return n;
}

const DESCRIBED = ['f32', 'f64', 'i32', 'u32', 'i64', 'u64', 'flag', 'city', 'ts', 'empty'];

describe('filter', () => {
  for (const rows of [1000, 1, 0]) {
    it(`keeps exactly the rows the CPU keeps, and describe over it agrees, on ${rows} rows over many chunks`, async () => {
      await withContext((context) =>
        withQueryTable(context, queryData(rows, 11), async (table) => {
          const tests = columnTests(table.values, table.data.values as Record<string, unknown[]>);
          const random = xorshift(rows + 3);
          const predicates = [
            ...everyTest(tests),
            { and: [] },
            { or: [] },
            ...Array.from({ length: 40 }, () => randomPredicate(tests, random, 3)),
          ];
          for (const [k, predicate] of predicates.entries()) {
            const { filterId, keep } = await expectFilter(table, context, predicate);
            // Each column described over some filter, the rest in turn.
            const name = DESCRIBED[k % DESCRIBED.length] as string;
            const got = await table.store.describe(table.tableId, name, { filterId });
            const reference = referenceSummary(table.reference[name] ?? [], keep);
            expectSummary(name, got, reference, `${name} where ${printPredicate(predicate)}`);
            // Every other filter is left to the table's destroy.
            if (k % 2 === 0) table.store.destroyFilter(table.tableId, filterId);
          }
        }),
      );
    }, 300_000);
  }
});

/** A small table of the encodings only some tests reach: binary, numeric dictionaries, vector, null. */
function oddTable(): { bytes: Uint8Array; values: Record<string, RowValue[]> } {
  const bytes = (...b: number[]) => new Uint8Array(b);
  const values: Record<string, RowValue[]> = {
    x: [1, 2, 3, 4, 5, 6],
    bin: [bytes(1, 2), bytes(9), null, bytes(), bytes(1, 2), bytes(1, 2, 0)],
    text: ['a', 'b', null, 'a', '', 'c'],
    price: [1.5, 2, null, 1.5, -0, 3],
    big: [5n, 2n ** 60n, 5n, null, -1n, 0n],
  };
  const table = new Table({
    x: vectorFromArray(values.x as number[], new Float32()),
    bin: vectorFromArray(values.bin as Uint8Array[], new Binary()),
    text: vectorFromArray(values.text as string[], new Utf8()),
    price: vectorFromArray(values.price as number[], new Dictionary(new Float64(), new Int32())),
    big: vectorFromArray(values.big as bigint[], new Dictionary(new Int64(), new Int32())),
    xy: vectorFromArray(
      [[1, 2], null, [3, 4], [5, 6], null, [7, 8]],
      new FixedSizeList(2, new Field('v', new Float32())),
    ),
    nothing: vectorFromArray([null, null, null, null, null, null], new Null()),
  });
  return { bytes: tableToIPC(table, 'stream'), values };
}

async function withOddTable<T>(
  context: GpuContext,
  test: (store: TableStore, tableId: number) => Promise<T>,
): Promise<T> {
  const { bytes } = oddTable();
  const table = await runPipeline({
    gpu: context,
    source: whole(bytes),
    url: 'test://odd',
    bytesTotal: bytes.byteLength,
    upload: 'writeBuffer',
  });
  const store = new TableStore();
  const { tableId } = store.add(table, context);
  try {
    return await test(store, tableId);
  } finally {
    store.destroy(tableId);
  }
}

describe('filter on other encodings', () => {
  it('maps dictionary values to codes (text, bytes, doubles, bigints) and reads validity of any encoding', async () => {
    const { values } = oddTable();
    const predicates: Predicate[] = [
      { column: 'bin', in: [new Uint8Array([1, 2]), new Uint8Array(), new Uint8Array([7])] },
      { column: 'text', in: ['a', '', 'zz', 3] },
      { column: 'price', in: [1.5, 0, 2n, 3.5] },
      { column: 'big', in: [5, 2n ** 60n, -1, 0.5] },
      { column: 'big', in: [2 ** 60] },
      { not: { column: 'text', in: ['a'] } },
      { column: 'xy', isNull: true },
      { column: 'bin', isNull: false },
      { column: 'nothing', isNull: true },
      {
        or: [
          { column: 'nothing', isNull: false },
          { column: 'x', isNull: true },
        ],
      },
    ];
    const nulls: Record<string, RowValue[]> = {
      xy: [1, null, 1, 1, null, 1],
      nothing: Array(6).fill(null),
    };
    await withContext((context) =>
      withOddTable(context, async (store, tableId) => {
        for (const predicate of predicates) {
          const label = printPredicate(predicate);
          const { filterId, count } = await store.filter(tableId, predicate);
          const keep = (row: number) =>
            evaluate(predicate, (column) => (values[column] ?? nulls[column])?.[row] ?? null);
          const expected = maskOf(6, keep);
          const mask = await store.mask(tableId, filterId);
          const got = await readBytes(context.device, context.tracker, mask, 4);
          expect(Array.from(new Uint32Array(got.buffer)), label).toEqual(Array.from(expected));
          expect(count, label).toBe(popcount(expected[0] as number));
        }
      }),
    );
  });
});

/** How a call failed, as plain data. */
async function failure(call: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await call().then(
    () => null,
    (e: ArrowGpuError) => e,
  );
  expect(error, 'the call was expected to fail').toBeInstanceOf(ArrowGpuError);
  const e = error as ArrowGpuError;
  return { code: e.code, ...e.details, message: e.message };
}

describe('misuse', () => {
  it('is NO_SUCH_COLUMN or INVALID_ARGUMENT naming the column, its encoding and the path in the predicate; no buffer is left', async () => {
    const cases: Array<[unknown, Record<string, unknown>, RegExp]> = [
      [{ column: 'nope', range: [0, 1] }, { code: 'NO_SUCH_COLUMN', column: 'nope' }, /"nope".*"x"/],
      [
        {
          and: [
            { column: 'x', range: [0, 1] },
            { column: 'nope', isNull: true },
          ],
        },
        { code: 'NO_SUCH_COLUMN', column: 'nope' },
        /"nope"/,
      ],
      [
        { column: 'text', range: [0, 1] },
        { code: 'INVALID_ARGUMENT', column: 'text', option: 'predicate.range' },
        /"text".*dictionary/,
      ],
      [
        { column: 'bin', range: [0, 1] },
        { code: 'INVALID_ARGUMENT', column: 'bin', option: 'predicate.range' },
        /"bin".*dictionary/,
      ],
      [
        { or: [{ column: 'xy', in: [1] }] },
        { code: 'INVALID_ARGUMENT', column: 'xy', option: 'predicate.or[0].in' },
        /"xy".*vector/,
      ],
      [
        { column: 'nothing', range: [0, 1] },
        { code: 'INVALID_ARGUMENT', column: 'nothing', option: 'predicate.range' },
        /"nothing".*null/,
      ],
      [
        { column: 'x', in: [1, 'a'] },
        { code: 'INVALID_ARGUMENT', column: 'x', option: 'predicate.in[1]' },
        /"a".*"x".*f32/,
      ],
      [
        { column: 'x', in: [true] },
        { code: 'INVALID_ARGUMENT', column: 'x', option: 'predicate.in[0]' },
        /true.*f32/,
      ],
      [
        { not: { column: 'x', range: [0, Number.NaN] } },
        { code: 'INVALID_ARGUMENT', column: 'x', option: 'predicate.not.range' },
        /NaN/,
      ],
      [
        { column: 'x', range: [0, '1'] },
        { code: 'INVALID_ARGUMENT', column: 'x', option: 'predicate.range' },
        /"1"/,
      ],
      [
        { column: 'x', range: [0] },
        { code: 'INVALID_ARGUMENT', column: 'x', option: 'predicate.range' },
        /\[lo, hi\]/,
      ],
      [
        { and: [{ column: 'x', isNull: true, range: [0, 1] }] },
        { code: 'INVALID_ARGUMENT', option: 'predicate.and[0]' },
        /range and isNull/,
      ],
      [
        { column: 'x', range: [0, 1], extra: 1 },
        { code: 'INVALID_ARGUMENT', option: 'predicate.extra' },
        /extra/,
      ],
      [{ nand: [] }, { code: 'INVALID_ARGUMENT', option: 'predicate.nand' }, /nand/],
      [{ and: {} }, { code: 'INVALID_ARGUMENT', option: 'predicate.and' }, /array/],
      [null, { code: 'INVALID_ARGUMENT', option: 'predicate' }, /object/],
      [{ column: 'x', in: [null] }, { code: 'INVALID_ARGUMENT', option: 'predicate.in[0]' }, /isNull/],
      [
        { column: 'x', isNull: 'yes' },
        { code: 'INVALID_ARGUMENT', option: 'predicate.isNull' },
        /true or false/,
      ],
    ];
    await withContext((context) =>
      withOddTable(context, async (store, tableId) => {
        const before = context.tracker.count;
        for (const [predicate, details, message] of cases) {
          const got = await failure(() => store.filter(tableId, predicate));
          expect(got, printPredicate(predicate as Predicate)).toMatchObject(details);
          expect(got.message, printPredicate(predicate as Predicate)).toMatch(message);
        }
        expect(context.tracker.count, 'buffers made by refused filters').toBe(before);
      }),
    );
  });

  it('refuses a destroyed filter, another table’s, an unknown one, and any use of a destroyed table', async () => {
    await withContext((context) =>
      withOddTable(context, (store, a) =>
        withOddTable(context, async (_, b0) => {
          // A second table in the same store.
          const { bytes } = oddTable();
          const loaded = await runPipeline({
            gpu: context,
            source: whole(bytes),
            url: 'test://b',
            bytesTotal: bytes.byteLength,
            upload: 'writeBuffer',
          });
          const b = store.add(loaded, context).tableId;
          expect(b).not.toBe(b0);
          const f = await store.filter(a, { column: 'x', range: [2, 5] });
          expect((await store.describe(a, 'x', { filterId: f.filterId })).count).toBe(3);
          expect(await failure(() => store.describe(b, 'x', { filterId: f.filterId }))).toMatchObject({
            code: 'INVALID_ARGUMENT',
            option: 'filter',
            message: expect.stringMatching(/made on table \d+, not on table \d+/),
          });
          expect(await failure(() => store.mask(a, 999))).toMatchObject({
            code: 'INVALID_ARGUMENT',
            message: expect.stringMatching(/unknown/),
          });
          store.destroyFilter(a, f.filterId);
          store.destroyFilter(a, f.filterId); // a no-op
          expect(await failure(() => store.describe(a, 'x', { filterId: f.filterId }))).toMatchObject({
            code: 'INVALID_ARGUMENT',
            option: 'filter',
            message: expect.stringMatching(/was destroyed/),
          });
          const g = await store.filter(b, { column: 'x', isNull: false });
          store.destroy(b);
          expect(await failure(() => store.filter(b, { column: 'x', isNull: false }))).toMatchObject({
            code: 'NO_SUCH_COLUMN',
          });
          expect(await failure(() => store.mask(b))).toMatchObject({ code: 'NO_SUCH_COLUMN' });
          expect(await failure(() => store.describe(b, 'x', { filterId: g.filterId }))).toMatchObject({
            code: 'NO_SUCH_COLUMN',
          });
          expect(await failure(() => store.describe(a, 'x', { filterId: g.filterId }))).toMatchObject({
            code: 'INVALID_ARGUMENT',
            message: expect.stringMatching(/table \d+, which was destroyed/),
          });
          store.destroyFilter(b, g.filterId); // a no-op once its table is gone
        }),
      ),
    );
  });
});

describe('buffers', () => {
  it('a filter holds one buffer, its mask: destroy() frees it, and so does its table’s destroy', async () => {
    await withContext(async (context, probe) => {
      const predicate: Predicate = {
        or: [
          { and: [{ column: 'f32', range: [-1e5, 1e5] }, { not: { column: 'city', in: ['Oslo'] } }] },
          { not: { column: 'i64', isNull: true } },
        ],
      };
      let kept: GPUBuffer | null = null;
      await withQueryTable(context, queryData(300, 5), async ({ store, tableId }) => {
        // The first filter compiles kernels and binds chunks: those stay with the table.
        kept = await store.mask(tableId, (await store.filter(tableId, predicate)).filterId);
        const before = { count: context.tracker.count, bytes: context.tracker.bytes };
        const { filterId } = await store.filter(tableId, predicate);
        const mask = await store.mask(tableId, filterId);
        expect({ count: context.tracker.count, bytes: context.tracker.bytes }).toEqual({
          count: before.count + 1,
          bytes: before.bytes + Math.ceil(300 / 32) * 4,
        });
        store.destroyFilter(tableId, filterId);
        expect(probe.buffers.find((b) => b.buffer === mask)?.destroyed).toBe(true);
        expect({ count: context.tracker.count, bytes: context.tracker.bytes }).toEqual(before);
      });
      expect(
        probe.buffers.find((b) => b.buffer === kept)?.destroyed,
        'the mask of a filter never destroyed',
      ).toBe(true);
    });
  });

  it('a table destroyed while a filter of it is made: NO_SUCH_COLUMN, and nothing it made is left', async () => {
    await withContext(async (context) => {
      const predicate: Predicate = {
        or: [
          { column: 'f32', range: [0, 1e5] },
          { column: 'city', isNull: true },
        ],
      };
      for (const warm of [false, true]) {
        const data = queryData(300, 8);
        const loaded = await runPipeline({
          gpu: context,
          source: whole(data.bytes),
          url: 'test://race',
          bytesTotal: data.bytes.byteLength,
          upload: 'writeBuffer',
          chunkBytes: 512,
        });
        const store = new TableStore();
        const { tableId } = store.add(loaded, context);
        // Cold: the destroy lands while kernels compile and chunks are bound; warm: while the GPU works.
        if (warm) await store.filter(tableId, predicate);
        const pending = store.filter(tableId, predicate);
        store.destroy(tableId);
        expect(await failure(() => pending), `warm: ${warm}`).toMatchObject({
          code: 'NO_SUCH_COLUMN',
          message: expect.stringMatching(/destroyed while a filter/),
        });
        expect(context.tracker.count, `buffers left, warm: ${warm}`).toBe(0);
      }
    });
  });

  it('a filter destroyed while a describe over it runs: the describe answers right or says it was destroyed', async () => {
    await withContext((context) =>
      withQueryTable(context, queryData(300, 6), async ({ store, tableId, reference, values }) => {
        const predicate: Predicate = { column: 'u32', range: [0, 2 ** 31] };
        const keep = (row: number) => evaluate(predicate, (column) => values[column]?.[row] ?? null);
        await store.describe(tableId, 'f64'); // compiled beforehand, so that the race is with the GPU work
        for (let k = 0; k < 4; k++) {
          const { filterId } = await store.filter(tableId, predicate);
          const pending = store.describe(tableId, 'f64', { filterId }).then(
            (summary) => ({ summary }),
            (error: ArrowGpuError) => ({ error }),
          );
          store.destroyFilter(tableId, filterId);
          const outcome = await pending;
          if ('summary' in outcome)
            expectSummary('f64', outcome.summary, referenceSummary(reference.f64 ?? [], keep));
          else
            expect(outcome.error).toMatchObject({
              code: 'INVALID_ARGUMENT',
              message: expect.stringMatching(/was destroyed/),
            });
        }
      }),
    );
  });
});
