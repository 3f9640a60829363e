import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Table as ArrowTable,
  type DataType,
  Dictionary,
  Field,
  FixedSizeList,
  Float64,
  RecordBatchReader,
  type Table,
  Type,
  tableFromIPC,
  tableToIPC,
  util,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { EncodingRequest } from '../../src/core/columns/encoding.js';
import { maskSelection } from '../../src/core/columns/rows/row-selection.js';
import { type ColumnPlan, planColumns } from '../../src/core/columns/type-plan.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { type ReadPart, readSelectedRows } from '../../src/core/gpu/row-reader.js';
import { type LoadedTable, runPipeline } from '../../src/core/pipeline/load.js';
import { TableStore } from '../../src/core/service/table-store.js';
import type { ColumnInfo, ReadRowsOptions } from '../../src/types.js';
import { tailOf, whole } from '../support/byte-sources.js';
import { withContext } from '../support/dawn.js';
import { everyTypeTable } from '../support/every-type.js';
import { moreTypesTable } from '../support/more-types.js';
import { xorshift } from '../support/mutate.js';
import { type Cell, cellOf, lossyCell, rawValue, sourceColumn } from '../support/row-cells.js';
import { replacedDictionaryTable, rowTypesTable, sharedDictionaryTable } from '../support/row-types.js';

// readRows on Dawn: tables of every type loaded over small chunks, rows read back as Arrow and compared
// with the source table's rows worked out on the CPU: types, nulls and values (exact encodings byte for
// byte; lossy ones against what the encoding makes of the source value).

/** A source table loaded into a store, with the plans of its columns. */
interface Loaded {
  store: TableStore;
  tableId: number;
  source: Table;
  plans: ColumnPlan[];
  columns: ColumnInfo[];
  table: LoadedTable;
}

interface LoadOptions {
  encodings?: EncodingRequest;
  unsupported?: 'error' | 'skip';
  /** Default 64: 32-row chunks for every column up to 2 words a row. */
  chunkBytes?: number;
  format?: 'stream' | 'file';
}

async function withLoaded<T>(
  context: GpuContext,
  source: Table | Uint8Array,
  options: LoadOptions,
  test: (loaded: Loaded) => Promise<T>,
): Promise<T> {
  const bytes = source instanceof Uint8Array ? source : tableToIPC(source, options.format ?? 'stream');
  const table = await runPipeline({
    gpu: context,
    source: whole(bytes),
    readTail: tailOf(bytes),
    url: 'test://rows',
    bytesTotal: bytes.byteLength,
    encodings: options.encodings,
    unsupported: options.unsupported,
    upload: 'writeBuffer',
    chunkBytes: options.chunkBytes ?? 64,
  });
  const store = new TableStore();
  const { tableId, columns } = store.add(table, context);
  // The source as a reader sees it (a time zone absent in memory is null once written, for one), and
  // its schema as the reader gives it: apache-arrow's Table merges fields of one name.
  const decoded = tableFromIPC(bytes);
  const reader = RecordBatchReader.from(bytes);
  reader.open();
  const { plans } = planColumns(reader.schema, options, 'test://rows');
  try {
    return await test({ store, tableId, source: decoded, plans, columns, table });
  } finally {
    store.destroy(tableId);
  }
}

async function read(
  loaded: Loaded,
  options: ReadRowsOptions,
  mask?: Uint32Array | GPUBuffer,
): Promise<Table> {
  return tableFromIPC(new Uint8Array(await loaded.store.readRows(loaded.tableId, options, mask)));
}

/** Whether the GPU holds a value of this column other than the source's (see `lossyCell`). */
function lossy(encoding: string | undefined, type: DataType): boolean {
  if (encoding === 'f32x2' || encoding === 'f32-relative') return true;
  if (encoding !== 'f32') return false;
  const precision = (type as DataType & { precision?: number }).precision;
  return !(type.typeId === Type.Float && precision !== 2);
}

/** Row `row` of a source column as readRows must give it. */
function expectedCell(loaded: Loaded, plan: ColumnPlan, row: number): Cell {
  const { vector, valid } = sourceColumn(loaded.source, plan);
  if (!valid(row)) return null;
  const info = loaded.columns.find((c) => c.name === plan.name) as ColumnInfo;
  const type = vector.type as DataType;
  if (lossy(plan.encoding, type)) return lossyCell(info, type, rawValue(vector, row));
  if (plan.encoding === 'vector') {
    const child = (type.children[0] as Field).type as DataType;
    const list = vector.get(row) as Vector;
    return Array.from({ length: list.length }, (_, j) =>
      lossy(plan.element, child)
        ? lossyCell({ ...info, encoding: 'f32' }, child, rawValue(list, j))
        : cellOf(list, j, true),
    );
  }
  return cellOf(vector, row);
}

/** Types equal as apache-arrow compares them, printed alike (decimal precision) and of the same width. */
function expectSameType(got: DataType, want: DataType, label: string): void {
  expect(String(got), label).toBe(String(want));
  expect(util.compareTypes(got, want), `${label}: ${got} vs ${want}`).toBe(true);
  const width = (t: DataType) => (t as DataType & { bitWidth?: number }).bitWidth;
  expect(width(got), label).toBe(width(want));
}

/**
 * The result holds `rows` (source row indices) of `names` (default: every plan, by position), as the CPU
 * works them out: names, types, nullability and field metadata, each row's value, null counts.
 */
function expectRows(loaded: Loaded, result: Table, rows: readonly number[], names?: readonly string[]): void {
  const plans = names ? names.map((n) => loaded.plans.find((p) => p.name === n) as ColumnPlan) : loaded.plans;
  expect(result.numRows).toBe(rows.length);
  expect(result.schema.fields.map((f) => f.name)).toEqual(plans.map((p) => p.name));
  // Dictionary ids taken before a column: by dictionaries nested in any column's values, by earlier columns.
  const taken = new Set(plans.flatMap((p) => dictionaryIds(p.field.type as DataType).slice(1)));
  for (const [i, plan] of plans.entries()) {
    const field = result.schema.fields[i] as Field;
    const vector = result.getChildAt(i) as Vector;
    // The vector's type: apache-arrow's Table merges the schema fields of columns that share a name.
    const got = vector.type as DataType;
    const want = plan.field.type as DataType;
    if (want.typeId === Type.Dictionary) {
      const id = (got as Dictionary).id;
      if (taken.has((want as Dictionary).id)) {
        // Its id was taken: it gets a free one, and is otherwise the same type.
        expect(taken.has(id), `${plan.name}: id ${id} is free`).toBe(false);
        expectSameType(
          got,
          new Dictionary(
            (want as Dictionary).dictionary,
            (want as Dictionary).indices,
            id,
            (want as Dictionary).isOrdered,
          ),
          plan.name,
        );
      } else expectSameType(got, want, plan.name);
      taken.add(id);
    } else expectSameType(got, want, plan.name);
    expect(field.nullable, `${plan.name} nullable`).toBe(plan.field.nullable);
    expect(Object.fromEntries(field.metadata), `${plan.name} metadata`).toEqual(
      Object.fromEntries(plan.field.metadata),
    );
    const cells = rows.map((row) => expectedCell(loaded, plan, row));
    expect(
      rows.map((_, k) => cellOf(vector, k)),
      `${plan.name} (${plan.encoding})`,
    ).toEqual(cells);
    expect(vector.nullCount, `${plan.name} nulls`).toBe(cells.filter((c) => c === null).length);
  }
}

/** A type's dictionary ids: its own first (when a Dictionary), then those nested in it. */
function dictionaryIds(type: DataType): number[] {
  const own =
    type.typeId === Type.Dictionary
      ? [(type as Dictionary).id, ...dictionaryIds((type as Dictionary).dictionary)]
      : [];
  return [...own, ...(type.children ?? []).flatMap((child: Field) => dictionaryIds(child.type))];
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

describe('readRows: every encoding', () => {
  const cases: Array<[string, () => Table, LoadOptions]> = [
    ['everyTypeTable, auto, stream (dictionaries replaced every batch)', () => everyTypeTable('stream'), {}],
    ['everyTypeTable, exact, file', () => everyTypeTable('file'), { encodings: 'exact', format: 'file' }],
    ['moreTypesTable, auto', () => moreTypesTable(), {}],
    ['moreTypesTable, exact', () => moreTypesTable(), { encodings: 'exact', chunkBytes: 256 }],
    ['rowTypesTable, auto', () => rowTypesTable(), {}],
  ];
  for (const [name, make, options] of cases) {
    it(`${name}: every row comes back in its Arrow type with its nulls, over 32-row chunks`, async () => {
      await withContext((context) =>
        withLoaded(context, make(), options, async (loaded) => {
          expect(loaded.columns.some((c) => c.chunks.length > 2)).toBe(true);
          const all = loaded.source.numRows;
          expectRows(loaded, await read(loaded, { limit: all }), range(0, all));
        }),
      );
    });
  }

  it('lossy encodings give the GPU value in the source type: f32x2, f32-relative, f32 of 64-bit integers', async () => {
    const encodings = {
      f64: 'f32x2',
      ts: 'f32-relative',
      i64: 'f32',
      'point.lat': 'f32-relative',
      i8: 'f32',
    } as const;
    await withContext((context) =>
      withLoaded(context, everyTypeTable('stream'), { encodings }, async (loaded) => {
        const names = Object.keys(encodings);
        expectRows(
          loaded,
          await read(loaded, { columns: names, limit: 1000 }),
          range(0, loaded.source.numRows),
          names,
        );
      }),
    );
  });
});

describe('readRows: offset, limit and columns', () => {
  it('reads windows that start and end inside chunks and across their edges, bits included', async () => {
    const names = ['flag', 'category', 'point', 'i64', 'name', 'nothing', 'xy'];
    const flat = ['flag', 'category', 'point.lat', 'point.n', 'i64', 'name', 'nothing', 'xy'];
    await withContext((context) =>
      withLoaded(context, everyTypeTable('stream'), {}, async (loaded) => {
        const all = loaded.source.numRows; // 207
        for (const [offset, limit] of [
          [0, 1],
          [31, 2],
          [30, 40],
          [64, 64],
          [5, 190],
          [200, 100],
          [all, 5],
          [1000, 1],
        ] as const) {
          const result = await read(loaded, { columns: names, offset, limit });
          expectRows(loaded, result, range(offset, Math.min(all, offset + limit)), flat);
        }
      }),
    );
  });

  it('an empty table gives its schema and no rows', async () => {
    await withContext((context) =>
      withLoaded(context, everyTypeTable('stream', [0]), {}, async (loaded) => {
        const result = await read(loaded, { limit: 10 });
        expect(result.numRows).toBe(0);
        expectRows(loaded, result, []);
      }),
    );
  });
});

/** A packed mask (validity words) keeping the rows `keep` says. */
function maskOf(rows: number, keep: (row: number) => boolean): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(rows / 32) + 1);
  for (let i = 0; i < rows; i++)
    if (keep(i)) words[i >> 5] = ((words[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  // Bits past the last row are not rows: readRows must ignore them.
  words[words.length - 1] = 0xffffffff;
  if (rows % 32 !== 0)
    words[Math.floor(rows / 32)] =
      ((words[Math.floor(rows / 32)] as number) | (0xffffffff << (rows % 32))) >>> 0;
  return words;
}

describe('readRows: a row mask (what a filter gives)', () => {
  const random = xorshift(11);
  const masks: Array<[string, (row: number) => boolean]> = [
    ['a third of the rows at random', () => random() < 1 / 3],
    ['every 50th row', (row) => row % 50 === 7],
    ['no row', () => false],
    ['runs of 40 rows', (row) => Math.floor(row / 40) % 2 === 1],
  ];
  for (const [name, keep] of masks) {
    it(`${name}: offset and limit count the rows the mask keeps`, async () => {
      await withContext((context) =>
        withLoaded(context, everyTypeTable('stream'), { encodings: 'exact' }, async (loaded) => {
          const all = loaded.source.numRows;
          const kept = range(0, all).filter(keep);
          const mask = maskOf(all, (row) => kept.includes(row));
          for (const [offset, limit] of [
            [0, 1000],
            [3, 10],
            [kept.length - 1, 5],
          ] as const) {
            const from = Math.max(0, offset);
            const result = await read(loaded, { offset: from, limit }, mask);
            expectRows(loaded, result, kept.slice(from, from + limit));
          }
        }),
      );
    });
  }

  it('reads a mask held in a GPU buffer', async () => {
    await withContext((context) =>
      withLoaded(context, everyTypeTable('stream'), {}, async (loaded) => {
        const all = loaded.source.numRows;
        const mask = maskOf(all, (row) => row % 3 === 0);
        const buffer = await context.tracker.create({
          label: 'test mask',
          size: mask.byteLength,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        try {
          context.device.queue.writeBuffer(buffer, 0, mask);
          const result = await read(loaded, { columns: ['i32', 'flag'], offset: 2, limit: 20 }, buffer);
          expectRows(
            loaded,
            result,
            range(0, all)
              .filter((r) => r % 3 === 0)
              .slice(2, 22),
            ['i32', 'flag'],
          );
        } finally {
          context.tracker.destroy(buffer);
        }
      }),
    );
  });
});

describe('readRows: dictionaries', () => {
  it('columns that shared a dictionary id keep their values; the later one gets the next free id', async () => {
    await withContext((context) =>
      withLoaded(context, sharedDictionaryTable(), {}, async (loaded) => {
        const result = await read(loaded, { limit: 1000 });
        const [a, b] = result.schema.fields as [Field, Field];
        expect([(a.type as { id: number }).id, (b.type as { id: number }).id]).toEqual([5, 6]);
        for (const name of ['a', 'b']) {
          const got = result.getChild(name) as Vector;
          const want = loaded.source.getChild(name) as Vector;
          expect(
            range(0, want.length).map((i) => got.get(i)),
            name,
          ).toEqual(range(0, want.length).map((i) => want.get(i)));
        }
        // Only the values the rows use: column a's first half all uses one value.
        const firstHalf = await read(loaded, { columns: ['a'], limit: 45 });
        expect((firstHalf.getChild('a') as Vector).data[0]?.dictionary?.toArray()).toEqual(['north']);
      }),
    );
  });

  it('Int8 indices widen to Int32 when the rows use more values than they count (replaced dictionaries)', async () => {
    await withContext((context) =>
      withLoaded(context, replacedDictionaryTable(), {}, async (loaded) => {
        const result = await read(loaded, { limit: 1000 });
        const type = result.schema.fields[0]?.type as DataType & { indices: DataType; id: number };
        expect([String(type), type.id]).toEqual(['Dictionary<Int32, Utf8>', 0]);
        const want = loaded.source.getChild('word') as Vector;
        expect((result.getChild('word') as Vector).toArray()).toEqual(want.toArray());
        // 100 rows use 100 values: Int8 still counts them.
        const some = await read(loaded, { offset: 150, limit: 100 });
        expect(String(some.schema.fields[0]?.type)).toBe('Dictionary<Int8, Utf8>');
        expect((some.getChild('word') as Vector).toArray()).toEqual(want.toArray().slice(150, 250));
      }),
    );
  });
});

describe('readRows: misuse', () => {
  it('refuses options out of range with INVALID_ARGUMENT naming the option, expected vs actual', async () => {
    await withContext((context) =>
      withLoaded(context, everyTypeTable('stream'), {}, async (loaded) => {
        const refused: Array<[unknown, string, RegExp]> = [
          [{ limit: 0 }, 'limit', /limit must be a whole number of rows from 1 to 1000000, got 0/],
          [{ limit: 1_000_001 }, 'limit', /got 1000001/],
          [{ limit: 2.5 }, 'limit', /got 2.5/],
          [{}, 'limit', /got undefined/],
          [{ limit: 5, offset: -1 }, 'offset', /offset must be a whole number of rows, at least 0, got -1/],
          [{ limit: 5, offset: '3' }, 'offset', /got "3"/],
          [{ limit: 5, columns: 'x' }, 'columns', /columns must be an array of column names, got "x"/],
          [{ limit: 5, columns: ['x', 3] }, 'columns[1]', /got 3/],
          [null, 'options', /got null/],
        ];
        for (const [options, option, message] of refused) {
          const error = await loaded.store
            .readRows(loaded.tableId, options as ReadRowsOptions)
            .catch((e: Error) => e);
          expect(error, JSON.stringify(options)).toMatchObject({
            code: 'INVALID_ARGUMENT',
            details: { option },
          });
          expect((error as Error).message).toMatch(message);
        }
        const limit = await loaded.store.readRows(loaded.tableId, { limit: 0 }).catch((e: Error) => e);
        expect(limit).toMatchObject({ details: { expected: 1_000_000, actual: 0 } });
        await expect(
          loaded.store.readRows(loaded.tableId, { columns: ['i8', 'nope'], limit: 1 }),
        ).rejects.toMatchObject({
          code: 'NO_SUCH_COLUMN',
          details: { column: 'nope' },
        });
      }),
    );
  });

  it('caps a read at 256 MiB of GPU words: the largest limit for the columns is named', async () => {
    const wide = new FixedSizeList(300, new Field('v', new Float64(), false));
    const source = new ArrowTable({ v: vectorFromArray([Array.from({ length: 300 }, (_, i) => i)], wide) });
    await withContext((context) =>
      withLoaded(context, source, { encodings: 'exact', chunkBytes: 1 << 20 }, async (loaded) => {
        const most = Math.floor((256 << 20) / 2400);
        const error = await loaded.store.readRows(loaded.tableId, { limit: most + 1 }).catch((e: Error) => e);
        expect(error).toMatchObject({
          code: 'INVALID_ARGUMENT',
          details: { option: 'limit', expected: most, actual: most + 1 },
        });
        expect((error as Error).message).toMatch(/at most 111848 for columns "v" \(2400 bytes a row/);
        expectRows(loaded, await read(loaded, { limit: most }), [0]);
      }),
    );
  });

  it('a destroyed table is NO_SUCH_COLUMN, before the read or while it is in flight', async () => {
    await withContext((context) =>
      withLoaded(context, everyTypeTable('stream'), {}, async (loaded) => {
        const pending = loaded.store.readRows(loaded.tableId, { limit: 100 });
        loaded.store.destroy(loaded.tableId);
        await expect(pending).rejects.toMatchObject({ code: 'NO_SUCH_COLUMN' });
        await expect(loaded.store.readRows(loaded.tableId, { limit: 1 })).rejects.toMatchObject({
          code: 'NO_SUCH_COLUMN',
          message: expect.stringMatching(/destroyed/),
        });
      }),
    );
  });
});

describe('the row reader', () => {
  it('with few windows and tiny staging buffers, gathers what whole-column reads hold at the selected rows', async () => {
    await withContext((context) =>
      withLoaded(context, everyTypeTable('stream'), { encodings: 'exact' }, async (loaded) => {
        const all = loaded.source.numRows;
        const random = xorshift(3);
        const selection = maskSelection(
          maskOf(all, () => random() < 0.4),
          all,
          4,
          1000,
        );
        const rows = selection.runs.flatMap((r) => range(r.start, r.end));
        const column = (name: string) => loaded.table.columns.find((c) => c.plan.name === name);
        // Words a row: f64 2, xy 2 (f32 pairs), decimal 4; bits: flag values, i8 validity.
        const parts: Array<[string, ReadPart, Uint32Array]> = [];
        for (const name of ['f64', 'xy', 'price']) {
          const c = column(name);
          const words = new Uint32Array((await loaded.store.readColumn(loaded.tableId, name)).buffer);
          parts.push([name, { chunks: c?.values ?? [], wordsPerRow: c?.plan.components ?? 0 }, words]);
        }
        const flag = new Uint32Array((await loaded.store.readColumn(loaded.tableId, 'flag')).buffer);
        parts.push(['flag', { chunks: column('flag')?.values ?? [], wordsPerRow: 0 }, flag]);
        const validity = new Uint32Array(
          (await loaded.store.readValidity(loaded.tableId, 'i8')) ?? new ArrayBuffer(0),
        );
        parts.push(['i8 validity', { chunks: column('i8')?.validity ?? [], wordsPerRow: 0 }, validity]);
        expect(selection.runs.length).toBeGreaterThan(20);
        for (const limits of [
          { maxWindows: 1, mergeGapBytes: 0, passBytes: 1 << 20 },
          { maxWindows: 3, mergeGapBytes: 0, passBytes: 8 },
          { maxWindows: 1024, mergeGapBytes: 0, passBytes: 16 },
          { maxWindows: 1024, mergeGapBytes: 12, passBytes: 64 },
        ]) {
          const got = await readSelectedRows(
            context.device,
            context.tracker,
            parts.map((p) => p[1]),
            selection,
            limits,
          );
          for (const [i, [name, part, words]] of parts.entries()) {
            expect(Array.from(got[i] as Uint32Array), `${name} ${JSON.stringify(limits)}`).toEqual(
              gatherOnCpu(words, part.wordsPerRow, rows),
            );
          }
        }
      }),
    );
  });
});

/** Rows of whole-column words, end to end: `wordsPerRow` words each, or (0) one bit each. */
function gatherOnCpu(words: Uint32Array, wordsPerRow: number, rows: readonly number[]): number[] {
  if (wordsPerRow > 0)
    return rows.flatMap((row) => Array.from(words.subarray(row * wordsPerRow, (row + 1) * wordsPerRow)));
  const out = new Uint32Array(Math.ceil(rows.length / 32));
  for (const [k, row] of rows.entries()) {
    if ((((words[row >> 5] as number) >>> (row & 31)) & 1) === 1)
      out[k >> 5] = ((out[k >> 5] as number) | (1 << (k & 31))) >>> 0;
  }
  return Array.from(out);
}

describe('readRows: the Arrow integration files', () => {
  const root = join(import.meta.dirname, '../data/arrow-testing');
  const cases = ['1.0.0-littleendian', '4.0.0-shareddict'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.stream'))
      .sort()
      .map((f) => join(dir, f)),
  );
  it('covers the stream of every case', () => expect(cases.length).toBeGreaterThan(20));
  for (const file of cases) {
    it(`${file}: every column loaded exactly comes back as apache-arrow decodes it, over 32-row chunks`, async () => {
      const bytes = new Uint8Array(readFileSync(join(root, file)));
      await withContext((context) =>
        withLoaded(context, bytes, { encodings: 'exact', unsupported: 'skip' }, async (loaded) => {
          const all = loaded.source.numRows;
          expect(loaded.plans.length).toBe(loaded.columns.length);
          expectRows(loaded, await read(loaded, { limit: Math.max(1, all) }), range(0, all));
        }),
      );
    });
  }
});
