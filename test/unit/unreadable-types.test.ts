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

// RunEndEncoded, ListView and LargeListView are valid Arrow that apache-arrow 21 cannot decode: such
// columns (or a struct's such children) are taken out, the others load exactly, and the plan names them.

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

const UNREADABLE = [
  { name: 'ree', arrowType: 'RunEndEncoded<Int32, Float64>' },
  { name: 'lv', arrowType: 'ListView<Float64>' },
  { name: 's.r', arrowType: 'RunEndEncoded<Int32, Dictionary<Int32, Utf8>>' },
];

/** The source's columns apache-arrow can read, as the rewritten schema keeps them. */
function keptOf(table: Table): Table {
  const s = table.getChild('s');
  const x = s?.getChild('x');
  return new Table({
    a: table.getChild('a') as never,
    s: vectorFromArray(
      Array.from({ length: table.numRows }, (_, i) => ({ x: x?.get(i) })),
      new Struct([new Field('x', new Int32(), true)]),
    ),
    k: table.getChild('k') as never,
    b: table.getChild('b') as never,
  });
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
    it(`${format}: the other columns load exactly, the others are listed with their types`, async () => {
      const want = valuesOf(keptOf(table).batches);
      for (const source of [whole(bytes), chunked(bytes, [5, 97, 1]), streamed(bytes, 64)]) {
        const opened = await openStream(source, format, bytes);
        expect(opened.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
          'a:Int32',
          's:Struct<{x:Int32}>',
          'k:Dictionary<Int32, Utf8>',
          'b:Utf8',
        ]);
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
    expect(opened.unreadable.map((u) => u.name)).toEqual(['ree', 'lv', 's.r']);
  });

  it('the plan names them: UNSUPPORTED_TYPE listing all, or skipped with unsupported: skip', async () => {
    const { bytes } = cases.stream;
    const opened = await openStream(whole(bytes), 'test://ree.arrow');
    const { schema, unreadable } = opened;
    const error = (() => {
      try {
        planColumns(schema, {}, 'test://ree.arrow', unreadable);
      } catch (e) {
        return e as { code: string; message: string; details: { columns: string[] } };
      }
      throw new Error('planned');
    })();
    expect(error.code).toBe('UNSUPPORTED_TYPE');
    expect(error.details.columns).toEqual(expect.arrayContaining(['ree', 'lv', 's.r']));
    expect(error.message).toContain('RunEndEncoded<Int32, Float64>');
    expect(error.message).toContain('ListView<Float64>');
    const skippedAll = planColumns(schema, { unsupported: 'skip' }, 'u', unreadable);
    expect(skippedAll.skipped.map((s) => s.name)).toEqual(expect.arrayContaining(['ree', 'lv', 's.r']));
    expect(skippedAll.plans.map((p) => p.name)).toEqual(expect.arrayContaining(['a', 's.x']));
    const struct = planColumns(schema, { columns: ['s'], unsupported: 'skip' }, 'u', unreadable);
    expect(struct.plans.map((p) => p.name)).toEqual(['s.x']);
    expect(struct.skipped.map((s) => s.name)).toEqual(['s.r']);
    expect(() => planColumns(schema, { columns: ['lv'] }, 'u', unreadable)).toThrow(/ListView<Float64>/);
    const missing = await errorOf(
      Promise.reject(thrown(() => planColumns(schema, { columns: ['zz'] }, 'u', unreadable))),
    );
    expect(missing.code).toBe('NO_SUCH_COLUMN');
    expect(missing.message).toContain('"ree"');
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
