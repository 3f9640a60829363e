import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import {
  Table as ArrowTable,
  Bool,
  Dictionary,
  Float32,
  Float64,
  Int32,
  Int64,
  Type,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { planColumns } from '../src/core/columns/type-plan.js';
import type { Loader, Predicate } from '../src/index.js';
import { evaluate, printPredicate, type RowValue } from '../test/support/predicates.js';
import { expect, fixtureBytes, test } from './support.js';

// table.readRows through the real worker and Comlink, from source and from dist/: the rows of the
// every-type fixture, loaded over 256-byte chunks, come back as an apache-arrow Table in the page, whose
// columns equal the source's rows worked out in Node. apache-arrow reaches the page only on the first call.

/** A column's name and its path of field indices from the schema's top level (structs flattened). */
interface ColumnPath {
  name: string;
  path: number[];
}

/** One column as it compares: its type, whether it may be null, and each row's value. */
interface ColumnCells {
  name: string;
  type: string;
  nullable: boolean;
  cells: unknown[];
}

const TYPE_IDS = {
  Null: Type.Null,
  Bool: Type.Bool,
  FixedSizeList: Type.FixedSizeList,
  Dictionary: Type.Dictionary,
  Utf8: Type.Utf8,
  Binary: Type.Binary,
};

/**
 * Rows of a table's columns as plain data: fixed-width values as the hex of their bytes (exact to the
 * bit), strings and binaries as they read, booleans, vectors as lists; a row is null where its value,
 * a struct above it or (vectors) an element is. Self-contained: it runs in the page on the Table that
 * readRows gives, and in Node on the source table.
 */
function columnCells(
  table: Table,
  { columns, rows, types }: { columns: ColumnPath[]; rows: number[]; types: typeof TYPE_IDS },
): ColumnCells[] {
  type V = ReturnType<Table['getChildAt']> & object;
  const hex = (vector: V, row: number): string => {
    let at = row;
    for (const data of vector.data) {
      if (at < data.length) {
        const values = data.values as Uint8Array;
        const width = values.BYTES_PER_ELEMENT * data.stride;
        const bytes = new Uint8Array(values.buffer, values.byteOffset + at * width, width);
        return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      }
      at -= data.length;
    }
    return 'past the end';
  };
  const cell = (vector: V, row: number): unknown => {
    const id = vector.type.typeId;
    if (id === types.Null) return null;
    if (id === types.FixedSizeList) {
      const list = vector.get(row) as V;
      return Array.from({ length: list.length }, (_, j) => cell(list, j));
    }
    if (id === types.Bool) return vector.get(row);
    const fixed = vector.data[0]?.values;
    if (
      id === types.Dictionary ||
      !fixed ||
      vector.data[0]?.valueOffsets ||
      id === types.Utf8 ||
      id === types.Binary
    ) {
      const value = vector.get(row) as unknown;
      return value instanceof Uint8Array ? Array.from(value) : String(value);
    }
    return hex(vector, row);
  };
  return columns.map(({ name, path }) => {
    const chain: V[] = [table.getChildAt(path[0] as number) as V];
    let fields = table.schema.fields;
    let nullable = false;
    for (const [depth, index] of path.entries()) {
      const field = fields[index] as (typeof fields)[number];
      nullable ||= field.nullable;
      fields = (field.type.children ?? []) as typeof fields;
      if (depth > 0) chain.push((chain[depth - 1] as V).getChildAt(index) as V);
    }
    const leaf = chain[chain.length - 1] as V;
    const valid = (row: number) => {
      if (!chain.every((v) => v.isValid(row))) return false;
      if (leaf.type.typeId !== types.FixedSizeList) return true;
      const list = leaf.get(row) as V;
      return Array.from({ length: list.length }, (_, j) => list.isValid(j)).every(Boolean);
    };
    const cells = rows.map((row) => (valid(row) ? cell(leaf, row) : null));
    return { name, type: String(leaf.type), nullable, cells };
  });
}

/** What the first evaluate leaves in the page for the next ones. */
interface RowsWindow {
  rowsLoader?: Loader;
  rowsTable?: Table;
}

const FIXTURE = 'every-type.stream';

test('readRows: rows of every encoding, over chunk edges, equal the source rows bit for bit; apache-arrow loads on the first call', async ({
  harnessPage,
}) => {
  const offset = 30;
  const limit = 100;
  const { readRows, before, after, numRows, fields } = await harnessPage.evaluate(
    async ({ fixture, offset, limit }) => {
      const scripts = () =>
        performance
          .getEntriesByType('resource')
          .map((e) => e.name)
          .filter((name) => /\.(m?js|ts)(\?|$)/.test(name));
      const loader = await window.harness.lib.createLoader({ chunkBytes: 256 });
      (window as RowsWindow).rowsLoader = loader;
      const table = await loader.load(`/data/${fixture}`, { encodings: 'exact' });
      const before = scripts();
      const rows = await table.readRows({ offset, limit });
      const after = scripts();
      (window as RowsWindow).rowsTable = rows;
      const fields = rows.schema.fields.map((f) => f.name);
      return { readRows: Boolean(rows), before, after, numRows: rows.numRows, fields };
    },
    { fixture: FIXTURE, offset, limit },
  );
  expect(readRows).toBe(true);
  // The shipped bundle: apache-arrow is a chunk of its own that index.js imports on the first call. (From
  // source, the dev server serves the worker's apache-arrow to the same page, so the check means nothing.)
  if ((test.info().project.metadata as { mode: string }).mode === 'dist') {
    const arrow = /\/dist\/assets\/Arrow\.dom-[\w-]+\.js$/;
    expect(
      before.filter((name) => arrow.test(name)),
      'apache-arrow before readRows',
    ).toEqual([]);
    expect(
      after.filter((name) => arrow.test(name)),
      'apache-arrow once readRows ran',
    ).toHaveLength(1);
  }

  const source = tableFromIPC(fixtureBytes(FIXTURE));
  const { plans } = planColumns(source.schema, { encodings: 'exact' }, FIXTURE);
  expect(fields).toEqual(plans.map((p) => p.name));
  expect(numRows).toBe(limit);
  const handle = await harnessPage.evaluateHandle(() => (window as RowsWindow).rowsTable as Table);
  const got = await handle.evaluate(columnCells, {
    columns: plans.map((p, i) => ({ name: p.name, path: [i] })),
    rows: Array.from({ length: limit }, (_, i) => i),
    types: TYPE_IDS,
  });
  const want = columnCells(source, {
    columns: plans.map((p) => ({ name: p.name, path: [...p.path] })),
    rows: Array.from({ length: limit }, (_, i) => offset + i),
    types: TYPE_IDS,
  });
  expect(got.map((c) => c.name)).toEqual(want.map((c) => c.name));
  for (const [i, column] of want.entries()) expect(got[i], column.name).toEqual(column);
  expect(source.numRows).toBeGreaterThan(offset + limit);
  await harnessPage.evaluate(() => (window as RowsWindow).rowsLoader?.close());
});

/**
 * A table of random rows with nulls in every column, NaN and ±Infinity among the floats: f32, f64,
 * i32, i64 (beyond 2^53), a dictionary and a bool, 3000 rows.
 */
function floatsWithSpecials(rows: number): ArrowTable {
  let seed = 11;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0];
  const float = (scale: number) => () =>
    random() < 0.1 ? special[Math.floor(random() * special.length)]! : (random() - 0.5) * scale;
  const column = <T>(make: () => T) => Array.from({ length: rows }, () => (random() < 0.12 ? null : make()));
  const words = ['ash', 'birch', 'cedar', 'dogwood', 'elm', 'fir', 'ginkgo'];
  return new ArrowTable({
    f32: vectorFromArray(
      column(float(2000)).map((v) => (v === null ? null : Math.fround(v))),
      new Float32(),
    ),
    f64: vectorFromArray(column(float(2e9)), new Float64()),
    i32: vectorFromArray(
      column(() => Math.floor(random() * 2 ** 32) - 2 ** 31),
      new Int32(),
    ),
    i64: vectorFromArray(
      column(() => BigInt(Math.floor(random() * 2 ** 53)) * 4096n - 2n ** 63n + 2n ** 62n),
      new Int64(),
    ),
    tree: vectorFromArray(
      column(() => words[Math.floor(random() * words.length)]!),
      new Dictionary(new Utf8(), new Int32()),
    ),
    flag: vectorFromArray(
      column(() => random() < 0.5),
      new Bool(),
    ),
  });
}

/** Compound predicates over every column kind of `floatsWithSpecials`. */
const ROW_PREDICATES: Predicate[] = [
  {
    and: [
      {
        or: [
          { column: 'f64', range: [-1e8, Number.POSITIVE_INFINITY] },
          { column: 'f32', isNull: true },
        ],
      },
      { not: { column: 'tree', in: ['birch', 'elm', 'nowhere'] } },
      {
        or: [
          { column: 'i64', range: [-(2n ** 61n), 2n ** 61n] },
          { column: 'flag', in: [true] },
        ],
      },
    ],
  },
  {
    or: [
      { column: 'f32', range: [Number.NEGATIVE_INFINITY, -100] },
      { column: 'f64', in: [Number.POSITIVE_INFINITY, 0] },
      { and: [{ not: { column: 'i32', range: [-(2 ** 30), 2 ** 30] } }, { column: 'tree', isNull: false }] },
    ],
  },
  {
    not: {
      or: [
        { column: 'f32', range: [-500, 500] },
        { column: 'flag', isNull: true },
      ],
    },
  },
];

test('readRows with a filter: the rows a CPU filter keeps over the source, in order, bit for bit; columns, offset and limit too', async ({
  harnessPage,
}) => {
  const rows = 3000;
  const source = floatsWithSpecials(rows);
  const names = source.schema.fields.map((f) => f.name);
  // Windows of the kept rows: all of them, a page from an offset, a page past the last kept row.
  const windows = [
    { offset: 0, limit: rows, columns: undefined },
    { offset: 37, limit: 101, columns: ['tree', 'f64', 'flag'] },
    { offset: 100_000, limit: 10, columns: ['i64'] },
  ];
  await harnessPage.evaluate(
    async ({ ipc, predicates, windows }) => {
      const loader = await window.harness.lib.createLoader({ chunkBytes: 256 });
      (window as RowsWindow).rowsLoader = loader;
      const table = await loader.load(window.harness.tableUrl(ipc), { encodings: 'exact' });
      const out: Table[] = [];
      for (const predicate of predicates) {
        const filter = await table.filter(predicate);
        for (const w of windows) out.push(await table.readRows({ ...w, filter }));
        await filter.destroy();
      }
      (window as RowsWindow & { filtered?: Table[] }).filtered = out;
    },
    {
      ipc: Buffer.from(tableToIPC(source, 'stream')).toString('base64'),
      predicates: ROW_PREDICATES,
      windows,
    },
  );
  const values = Object.fromEntries(
    names.map((name) => {
      const vector = source.getChild(name);
      return [name, Array.from({ length: rows }, (_, r) => (vector?.get(r) ?? null) as RowValue)];
    }),
  );
  for (const [p, predicate] of ROW_PREDICATES.entries()) {
    const kept = Array.from({ length: rows }, (_, r) => r).filter((r) =>
      evaluate(predicate, (column) => values[column]?.[r] ?? null),
    );
    expect(kept.length, 'the predicate keeps some rows and leaves some').toBeGreaterThan(100);
    expect(kept.length).toBeLessThan(rows - 100);
    for (const [k, w] of windows.entries()) {
      const label = `${printPredicate(predicate)}, offset ${w.offset}, limit ${w.limit}`;
      const columns = (w.columns ?? names).map((name) => ({ name, path: [names.indexOf(name)] }));
      const want = columnCells(source, {
        columns,
        rows: kept.slice(w.offset, w.offset + w.limit),
        types: TYPE_IDS,
      });
      const handle = await harnessPage.evaluateHandle(
        (i) => (window as RowsWindow & { filtered?: Table[] }).filtered?.[i] as Table,
        p * windows.length + k,
      );
      const numRows = await handle.evaluate((t) => t.numRows);
      expect(numRows, label).toBe(want[0]?.cells.length);
      const got = await handle.evaluate(columnCells, {
        columns: columns.map((c, i) => ({ name: c.name, path: [i] })),
        rows: Array.from({ length: numRows }, (_, i) => i),
        types: TYPE_IDS,
      });
      expect(got, label).toEqual(want);
    }
  }
  await harnessPage.evaluate(() => (window as RowsWindow).rowsLoader?.close());
});

test('readRows misuse through the worker: unknown column, bad offset or limit, a filter of another table or destroyed, destroyed table', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async (fixture) => {
    const { settle, lib } = window.harness;
    const loader = await lib.createLoader();
    try {
      const table = await loader.load(`/data/${fixture}`);
      const unknown = await settle(table.readRows({ columns: ['i8', 'nope'], limit: 5 }));
      const zero = await settle(table.readRows({ limit: 0 }));
      const negative = await settle(table.readRows({ offset: -2, limit: 5 }));
      const many = await settle(table.readRows({ limit: 2_000_000 }));
      const empty = await table.readRows({ columns: ['point'], offset: 10_000, limit: 5 });
      const other = await loader.load(`/data/${fixture}`);
      const foreign = await other.filter({ column: 'i32', isNull: false });
      const gone = await table.filter({ column: 'i32', isNull: false });
      await gone.destroy();
      const filters = {
        foreign: await settle(table.readRows({ limit: 5, filter: foreign })),
        destroyed: await settle(table.readRows({ limit: 5, filter: gone })),
        notAFilter: await settle(table.readRows({ limit: 5, filter: { id: 1 } as never })),
      };
      await table.destroy();
      const destroyed = await settle(table.readRows({ limit: 5 }));
      return {
        unknown,
        zero,
        negative,
        many,
        destroyed,
        filters,
        empty: { rows: empty.numRows, fields: empty.schema.fields.map((f) => `${f.name}: ${f.type}`) },
      };
    } finally {
      await loader.close();
    }
  }, FIXTURE);
  expect(result.unknown).toMatchObject({
    code: 'NO_SUCH_COLUMN',
    isArrowGpuError: true,
    details: { column: 'nope' },
  });
  expect(result.zero).toMatchObject({
    code: 'INVALID_ARGUMENT',
    isArrowGpuError: true,
    details: { option: 'limit', expected: 1_000_000, actual: 0 },
  });
  expect(result.zero.message).toMatch(/limit must be a whole number of rows from 1 to 1000000, got 0/);
  expect(result.negative).toMatchObject({
    code: 'INVALID_ARGUMENT',
    details: { option: 'offset', actual: -2 },
  });
  expect(result.many).toMatchObject({
    code: 'INVALID_ARGUMENT',
    details: { option: 'limit', actual: 2_000_000 },
  });
  expect(result.destroyed).toMatchObject({ code: 'NO_SUCH_COLUMN', isArrowGpuError: true });
  for (const [name, error] of Object.entries(result.filters)) {
    expect(error, `a filter ${name}`).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'filter' },
    });
  }
  expect(result.filters.foreign.message).toMatch(/another table/);
  expect(result.filters.destroyed.message).toMatch(/was destroyed/);
  expect(result.empty).toEqual({ rows: 0, fields: ['point.lat: Float64', 'point.n: Int32'] });
});

/** The README's readRows example: its code block, and what its comments say the calls give. */
function readmeExample(): { fields: string[]; rows: number } {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Reading rows'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const fields = /page\.schema\.fields\.map\(String\);\s*\/\/ (\[.*\])/.exec(block)?.[1] ?? '[]';
  const rows = /page\.numRows;\s*\/\/ (\d+)/.exec(block)?.[1] ?? 'NaN';
  return { fields: JSON.parse(fields.replaceAll("'", '"')) as string[], rows: Number(rows) };
}

test("the README's readRows example gives what its comments say", async ({ harnessPage }) => {
  const example = readmeExample();
  expect(example.fields.length).toBe(4);
  const result = await harnessPage.evaluate(async () => {
    const loader = await window.harness.lib.createLoader();
    try {
      const table = await loader.load('/demo.arrow');
      const page = await table.readRows({ offset: 1000, limit: 50 });
      const ids = await table.readRows({ columns: ['id'], offset: 4194300, limit: 50 });
      const first = page.toArray().map((row) => row.toJSON())[0] as Record<string, unknown>;
      return {
        rows: page.numRows,
        fields: page.schema.fields.map(String),
        keys: Object.keys(first),
        id: page.getChild('id')?.get(0),
        expectedId: (await table.readColumn('id'))[1000],
        last: ids.numRows,
      };
    } finally {
      await loader.close();
    }
  });
  expect({ rows: result.rows, fields: result.fields }).toEqual(example);
  expect(result.keys).toEqual(['x', 'y', 'id', 'kind']);
  expect(result.id).toBe(result.expectedId);
  expect(result.last).toBe(4);
});
