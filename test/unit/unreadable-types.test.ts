import {
  Dictionary,
  Field,
  Float64,
  Int32,
  List,
  Struct,
  Table,
  tableFromIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { BufferRegion, type FieldNode } from 'apache-arrow/ipc/metadata/message';
import { describe, expect, it } from 'vitest';
import { planColumns } from '../../src/core/columns/type-plan.js';
import { TypeTag } from '../../src/core/ipc/metadata/type.js';
import { chunked, streamed, whole } from '../support/byte-sources.js';
import { errorOf, openStream, valuesOf } from '../support/decode.js';
import { toLegacyFraming } from '../support/legacy-ipc.js';
import { retyped } from '../support/unreadable-ipc.js';

// RunEndEncoded, ListView and LargeListView are valid Arrow that apache-arrow 21 cannot decode. ListView
// columns (or a struct's such children) are taken out, the others load exactly, and the plan names them;
// RunEndEncoded ones are decoded as the struct of their run ends and values, and planned as columns.

/**
 * Written by apache-arrow: `ree` and `s.r` as Struct<run_ends, values> (runs of one row each), `lv` as a
 * List<Float64>, `sz` lending the list sizes a ListView needs.
 */
function sourceTable(rows: number, seed: number): Table {
  const pick = <T>(make: (i: number) => T) =>
    Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : make(i)));
  const runs = (values: unknown[], type: Field['type']) =>
    vectorFromArray(
      Array.from({ length: rows }, (_, i) => ({ run_ends: i + 1, values: values[i] })),
      new Struct([new Field('run_ends', new Int32(), false), new Field('values', type, true)]),
    );
  const lists = pick((i) => Array.from({ length: (i + seed) % 4 }, (_, k) => k * 0.5 + i));
  const lv = vectorFromArray(lists, new List(new Field('item', new Float64(), true)));
  const offsets = lv.data[0]?.valueOffsets as Int32Array;
  const tags = new Dictionary(new Utf8(), new Int32());
  return new Table({
    a: vectorFromArray(
      pick((i) => i * 3 - seed),
      new Int32(),
    ),
    ree: runs(
      pick((i) => i / 8 + seed),
      new Float64(),
    ),
    lv,
    sz: vectorFromArray(
      Array.from({ length: rows }, (_, i) => (offsets[i + 1] ?? 0) - (offsets[i] ?? 0)),
      new Int32(),
    ),
    s: vectorFromArray(
      Array.from({ length: rows }, (_, i) => ({ x: i + seed, r: { run_ends: i + 1, values: `v${i % 3}` } })),
      new Struct([
        new Field('x', new Int32(), true),
        new Field(
          'r',
          new Struct([new Field('run_ends', new Int32(), false), new Field('values', tags, true)]),
          true,
        ),
      ]),
    ),
    k: vectorFromArray(
      pick((i) => `k${(i + seed) % 5}`),
      new Dictionary(new Utf8(), new Int32()),
    ),
    b: vectorFromArray(
      pick((i) => `row ${i}`),
      new Utf8(),
    ),
  });
}

// Written nodes: a, ree, ree.run_ends, ree.values, lv, lv.item, sz, s, s.x, s.r, s.r.run_ends, s.r.values, k, b.
// Written buffers: a 0-1; ree 2 (validity), 3-4, 5-6; lv 7-8, item 9-10; sz 11-12; s 13, x 14-15,
// r 16 (validity), 17-18, 19-20; k 21-22; b 23-25.
const RETYPE = {
  tags: { ree: TypeTag.RunEndEncoded, lv: TypeTag.ListView, 's.r': TypeTag.RunEndEncoded },
  helpers: ['sz'],
  nodes: (n: FieldNode[]) => n.filter((_, i) => i !== 6),
  // A run-end encoded parent has no buffer; a list view has validity, n offsets and n sizes.
  buffers: (b: BufferRegion[], n: FieldNode[]) => {
    const at = (i: number) => b[i] as BufferRegion;
    const offsets = new BufferRegion(at(8).offset, (n[4] as FieldNode).length * 4);
    const keep = [0, 1, 3, 4, 5, 6, 7, -1, 12, 9, 10, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25];
    return keep.map((i) => (i < 0 ? offsets : at(i)));
  },
};

const UNREADABLE = [{ name: 'lv', arrowType: 'ListView<Float64>' }];

/** The source's columns the rewritten schema keeps: all but the list view (and the helper column). */
function keptOf(table: Table): Table {
  const names = ['a', 'ree', 's', 'k', 'b'];
  return new Table(Object.fromEntries(names.map((name) => [name, table.getChild(name) as never])));
}

describe('columns apache-arrow cannot decode (RunEndEncoded, ListView)', () => {
  const stream = sourceTable(37, 1).concat(sourceTable(20, 2));
  const cases = {
    stream: { table: stream, bytes: retyped(stream, RETYPE, 'stream') },
    file: { table: sourceTable(41, 3), bytes: retyped(sourceTable(41, 3), RETYPE, 'file') },
    'file with its schema only in the footer': {
      table: sourceTable(41, 3),
      bytes: retyped(sourceTable(41, 3), RETYPE, 'footer-schema'),
    },
  };

  it('the fixtures are what they claim: apache-arrow alone refuses them', () => {
    expect(() => tableFromIPC(cases.stream.bytes)).toThrow(/RunEndEncoded|ListView/);
  });

  for (const [format, { table, bytes }] of Object.entries(cases)) {
    it(`${format}: the other columns load exactly, run-end encoded ones as structs, list views are listed`, async () => {
      const want = valuesOf(keptOf(table).batches);
      for (const source of [whole(bytes), chunked(bytes, [5, 97, 1]), streamed(bytes, 64)]) {
        const opened = await openStream(source, format, bytes);
        expect(opened.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
          'a:Int32',
          'ree:Struct<{run_ends:Int32, values:Float64}>',
          's:Struct<{x:Int32, r:Struct<{run_ends:Int32, values:Dictionary<Int32, Utf8>}>}>',
          'k:Dictionary<Int32, Utf8>',
          'b:Utf8',
        ]);
        expect(opened.runEndEncoded).toEqual([[1], [2, 1]]);
        expect(opened.unreadable.map(({ name, arrowType }) => ({ name, arrowType }))).toEqual(UNREADABLE);
        const batches = [];
        for await (const { batch } of opened.batches) batches.push(batch);
        expect(batches.map((b) => b.numRows)).toEqual(table.batches.map((b) => b.numRows));
        expect(valuesOf(batches)).toEqual(want);
      }
    });
  }

  it('loads the same in legacy framing', async () => {
    const { table, bytes } = cases.stream;
    const opened = await openStream(whole(toLegacyFraming(bytes)), 'legacy');
    const batches = [];
    for await (const { batch } of opened.batches) batches.push(batch);
    expect(valuesOf(batches)).toEqual(valuesOf(keptOf(table).batches));
    expect(opened.unreadable.map((u) => u.name)).toEqual(['lv']);
    expect(opened.runEndEncoded).toEqual([[1], [2, 1]]);
  });

  it('the plan names list views (UNSUPPORTED_TYPE, or skipped) and plans run-end encoded columns', async () => {
    const { bytes } = cases.stream;
    const opened = await openStream(whole(bytes), 'test://ree.arrow');
    const { schema, unreadable, runEndEncoded } = opened;
    const plan = (options: Parameters<typeof planColumns>[1]) =>
      planColumns(schema, options, 'test://ree.arrow', unreadable, runEndEncoded);
    const error = (() => {
      try {
        plan({});
      } catch (e) {
        return e as { code: string; message: string; details: { columns: string[] } };
      }
      throw new Error('planned');
    })();
    expect(error.code).toBe('UNSUPPORTED_TYPE');
    expect(error.details.columns).toEqual(['lv']);
    expect(error.message).toContain('ListView<Float64>');
    const skippedAll = plan({ unsupported: 'skip' });
    expect(skippedAll.skipped.map((s) => s.name)).toEqual(['lv']);
    expect(skippedAll.plans.map((p) => [p.name, p.arrowType, p.encoding])).toEqual([
      ['a', 'Int32', 'i32'],
      ['ree', 'RunEndEncoded<Int32, Float64>', 'f32'],
      ['s.x', 'Int32', 'i32'],
      ['s.r', 'RunEndEncoded<Int32, Dictionary<Int32, Utf8>>', 'dictionary'],
      ['k', 'Dictionary<Int32, Utf8>', 'dictionary'],
      ['b', 'Utf8', 'dictionary'],
    ]);
    const struct = plan({ columns: ['s'] });
    expect(struct.plans.map((p) => p.name)).toEqual(['s.x', 's.r']);
    expect(struct.skipped).toEqual([]);
    expect(() => plan({ columns: ['lv'] })).toThrow(/ListView<Float64>/);
    const missing = await errorOf(Promise.reject(thrown(() => plan({ columns: ['zz'] }))));
    expect(missing.code).toBe('NO_SUCH_COLUMN');
    expect(missing.message).toContain('"ree"');
    expect(missing.message).toContain('"lv"');
  });
});

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}
