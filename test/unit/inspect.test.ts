import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Data,
  Decimal,
  Field,
  Float64,
  Int32,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { TypeTag } from '../../src/core/ipc/metadata/type.js';
import { type InspectInput, inspectSchema } from '../../src/core/pipeline/inspect.js';
import type { TableSchema } from '../../src/types.js';
import { chunked, encodeDataset, whole } from '../support/byte-sources.js';
import { runEndIpc } from '../support/run-end-ipc.js';
import { runEndTables } from '../support/run-end-table.js';
import { retyped } from '../support/unreadable-ipc.js';

const ARROW_TESTING = join(import.meta.dirname, '../data/arrow-testing');

/** A source that counts the bytes pulled from it and notes when it is closed. */
function counted(source: AsyncIterable<Uint8Array>) {
  const seen = { bytes: 0, closed: false };
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of source) {
        seen.bytes += chunk.byteLength;
        yield chunk;
      }
    } finally {
      seen.closed = true;
    }
  }
  return { body: body(), seen };
}

/** `readTail` over the whole bytes, counting its calls. */
function tailOf(bytes: Uint8Array) {
  const calls: number[] = [];
  const readTail = async (n: number) => {
    calls.push(n);
    return bytes.slice(Math.max(0, bytes.byteLength - n));
  };
  return { readTail, calls };
}

/** Offset just past the metadata of the message at `at` (its continuation marker, length and flatbuffer). */
function metadataEnd(bytes: Uint8Array, at: number): number {
  return at + 8 + new DataView(bytes.buffer, bytes.byteOffset + at + 4, 4).getInt32(0, true);
}

/** Lets the source's `finally` run after a cancellation. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

async function inspect(bytes: Uint8Array, options: Partial<InspectInput> = {}): Promise<TableSchema> {
  return inspectSchema({ source: whole(bytes), url: 'test://t', bytesTotal: bytes.byteLength, ...options });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof ArrowGpuError) return error.code;
    throw error;
  }
}

const SPEC = {
  rows: 5003,
  batchRows: 700,
  columns: { a: 'f32', b: 'f64', c: 'i8', d: 'u16', s: 'utf8' },
  nulls: { b: 0.2 },
} as const;

const COLUMNS = [
  { name: 'a', arrowType: 'Float32', nullable: false, encoding: 'f32', components: 1, gpuType: 'f32' },
  { name: 'b', arrowType: 'Float64', nullable: true, encoding: 'f32', components: 1, gpuType: 'f32' },
  { name: 'c', arrowType: 'Int8', nullable: false, encoding: 'i32', components: 1, gpuType: 'i32' },
  { name: 'd', arrowType: 'Uint16', nullable: false, encoding: 'u32', components: 1, gpuType: 'u32' },
  { name: 's', arrowType: 'Utf8', nullable: false, encoding: 'dictionary', components: 1, gpuType: 'u32' },
];

/** A stream with a column that has no GPU encoding (a list). */
const WITH_LIST = tableToIPC(
  new Table({ n: vectorFromArray([1, 2], new Int32()), l: vectorFromArray([[1], [2, 3]]) }),
  'stream',
);

describe('inspect', () => {
  const stream = encodeDataset({ ...SPEC, format: 'stream', columns: { ...SPEC.columns } });
  const file = encodeDataset({ ...SPEC, format: 'file', columns: { ...SPEC.columns } });

  it('plans a stream from its first message, whole and in chunks', async () => {
    const expected = {
      url: 'test://t',
      format: 'stream',
      columns: COLUMNS,
      skipped: [],
      metadata: {},
      bytesTotal: stream.byteLength,
    };
    expect(await inspect(stream)).toEqual(expected);
    for (const sizes of [[1], [3, 7], [4096]]) {
      expect(await inspect(stream, { source: chunked(stream, sizes) }), `chunks ${sizes}`).toEqual(expected);
    }
  });

  it('pulls nothing past the schema message of a stream, and closes the source', async () => {
    const schemaEnd = metadataEnd(stream, 0);
    for (const size of [1, 5, 64]) {
      const { body, seen } = counted(chunked(stream, [size]));
      let closes = 0;
      await inspect(stream, { source: body, closeSource: () => closes++ });
      await tick();
      // Byte by byte: exactly the schema message. In bigger chunks: at most the chunk that ends it.
      if (size === 1) expect(seen.bytes).toBe(schemaEnd);
      expect(seen.bytes).toBeLessThan(schemaEnd + size);
      expect(seen.closed, 'the source was left open').toBe(true);
      expect(closes).toBe(1);
    }
  });

  it('reads the schema of an apache-arrow JS file from its footer, without the first batch body', async () => {
    const first = 8; // "ARROW1" padded to 8: the first message follows
    for (const size of [1, 16, 1 << 20]) {
      const { body, seen } = counted(chunked(file, [size]));
      const { readTail, calls } = tailOf(file);
      const result = await inspect(file, { source: body, readTail });
      await tick();
      expect(result).toMatchObject({ format: 'file', columns: COLUMNS, skipped: [] });
      // The first message is no schema (apache-arrow JS writes it in the footer only).
      expect(calls.length, 'the footer was not read').toBe(2);
      const headEnd = metadataEnd(file, first);
      if (size === 1) expect(seen.bytes).toBe(headEnd);
      if (size < file.byteLength) expect(seen.bytes).toBeLessThan(headEnd + size);
      expect(seen.closed).toBe(true);
    }
  });

  it('fails a footer-only file without readTail (a stream) as INVALID_ARGUMENT, and a bad footer as TRUNCATED', async () => {
    expect(await codeOf(inspect(file))).toBe('INVALID_ARGUMENT');
    const cut = file.subarray(0, file.byteLength - 4);
    expect(await codeOf(inspect(cut, { readTail: tailOf(cut).readTail }))).toBe('TRUNCATED');
  });

  it('takes the schema from the first message of a file that starts with it, with its custom metadata', async () => {
    const bytes = new Uint8Array(
      readFileSync(join(ARROW_TESTING, '1.0.0-littleendian/generated_custom_metadata.arrow_file')),
    );
    const readTail = async (): Promise<Uint8Array> => {
      throw new Error('the footer is not needed');
    };
    const { body, seen } = counted(chunked(bytes, [1]));
    const result = await inspect(bytes, { source: body, readTail });
    const schema = tableFromIPC(bytes).schema;
    expect(result.format).toBe('file');
    expect(result.metadata).toEqual(Object.fromEntries(schema.metadata));
    expect(Object.keys(result.metadata).length).toBeGreaterThan(0);
    expect([...result.columns, ...result.skipped].map((c) => c.name)).toEqual(
      schema.fields.map((f) => f.name),
    );
    expect(seen.bytes).toBe(metadataEnd(bytes, 8));
  });

  it('names struct children, says which columns may hold nulls, and reports metadata and decimal scales', async () => {
    const children = [new Field('x', new Int32(), false), new Field('y', new Float64(), false)];
    const fields = [
      new Field('id', new Int32(), false),
      new Field('p', new Struct(children), true),
      new Field('price', new Decimal(2, 9, 128), true),
    ];
    const schema = new Schema(fields, new Map([['source', 'unit test']]));
    const length = 2;
    const only = (vector: Vector): Data => vector.data[0] as Data;
    const data = makeData({
      type: new Struct(fields),
      length,
      nullCount: 0,
      children: [
        only(vectorFromArray([1, 2], new Int32())),
        makeData({
          type: new Struct(children),
          length,
          nullCount: 0,
          children: [
            only(vectorFromArray([3, 4], new Int32())),
            only(vectorFromArray([0.5, 1.5], new Float64())),
          ],
        }),
        makeData({ type: new Decimal(2, 9, 128), length, nullCount: 0, data: new Uint32Array(8) }),
      ],
    });
    const bytes = tableToIPC(new Table([new RecordBatch(schema, data)]), 'stream');
    const result = await inspect(bytes, { encodings: 'exact' });
    expect(result.metadata).toEqual({ source: 'unit test' });
    expect(result.columns).toEqual([
      { name: 'id', arrowType: 'Int32', nullable: false, encoding: 'i32', components: 1, gpuType: 'i32' },
      { name: 'p.x', arrowType: 'Int32', nullable: true, encoding: 'i32', components: 1, gpuType: 'i32' },
      { name: 'p.y', arrowType: 'Float64', nullable: true, encoding: 'f64', components: 2, gpuType: 'u32' },
      {
        name: 'price',
        arrowType: 'Decimal[9e+2]',
        nullable: true,
        encoding: 'decimal',
        components: 4,
        gpuType: 'u32',
        scale: 2,
      },
    ]);
    const picked = await inspect(bytes, { columns: ['p'], encodings: { 'p.y': 'f32' } });
    expect(picked.columns.map((c) => [c.name, c.encoding])).toEqual([
      ['p.x', 'i32'],
      ['p.y', 'f32'],
    ]);
  });

  it('lists the columns without a GPU encoding, unless asked to fail on them as a load does', async () => {
    const result = await inspect(WITH_LIST);
    expect(result.columns.map((c) => c.name)).toEqual(['n']);
    expect(result.skipped).toEqual([
      { name: 'l', arrowType: 'List<Float64>', reason: expect.stringContaining('no GPU encoding') },
    ]);
    expect(await codeOf(inspect(WITH_LIST, { unsupported: 'error' }))).toBe('UNSUPPORTED_TYPE');
    expect(await codeOf(inspect(WITH_LIST, { unsupported: 'error', columns: ['n'] }))).toBe('OK');
  });

  it('fails as a load would: bad encodings, unknown columns', async () => {
    expect(await codeOf(inspect(stream, { encodings: { a: 'i32' } }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(inspect(stream, { encodings: { nope: 'f32' } }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(inspect(stream, { columns: ['nope'] }))).toBe('NO_SUCH_COLUMN');
    expect((await inspect(stream, { columns: ['d', 'a'] })).columns.map((c) => c.name)).toEqual(['d', 'a']);
  });

  it('fails bytes that are not Arrow, cut short or out of order with NOT_ARROW, TRUNCATED and CORRUPT', async () => {
    expect(await codeOf(inspect(new TextEncoder().encode('<!doctype html><p>hi</p>')))).toBe('NOT_ARROW');
    expect(await codeOf(inspect(new Uint8Array(0)))).toBe('NOT_ARROW');
    expect(await codeOf(inspect(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])))).toBe('NOT_ARROW');
    expect(await codeOf(inspect(stream.subarray(0, metadataEnd(stream, 0) - 1)))).toBe('TRUNCATED');
    // The record batch that follows the schema, first.
    const batchFirst = stream.subarray(metadataEnd(stream, 0));
    expect(await codeOf(inspect(batchFirst))).toBe('CORRUPT');
  });

  it('rejects with ABORTED when aborted before or while waiting for bytes, and closes the source', async () => {
    const before = new AbortController();
    before.abort();
    expect(await codeOf(inspect(stream, { signal: before.signal }))).toBe('ABORTED');

    const controller = new AbortController();
    let closes = 0;
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield stream.subarray(0, 10);
      await new Promise(() => {}); // never more
    }
    const pending = inspect(stream, {
      source: stalled(),
      signal: controller.signal,
      closeSource: () => closes++,
    });
    setTimeout(() => controller.abort(), 10);
    expect(await codeOf(pending)).toBe('ABORTED');
    expect(closes).toBe(1);
  });
});

describe('inspect of RunEndEncoded columns and of types apache-arrow cannot decode', () => {
  const { ree, plain, paths } = runEndTables([20, 12]);

  for (const format of ['stream', 'footer-schema'] as const) {
    it(`${format}: a RunEndEncoded column gets the encoding of its values' type, under its own type`, async () => {
      const bytes = runEndIpc(ree, paths, format);
      const tail = tailOf(bytes);
      const schema = await inspect(bytes, { readTail: tail.readTail, encodings: 'exact' });
      const plainSchema = await inspect(tableToIPC(plain, 'stream'), { encodings: 'exact' });
      expect(schema.skipped).toEqual([]);
      expect(schema.columns.map((c) => c.name)).toEqual(plainSchema.columns.map((c) => c.name));
      for (const [i, column] of schema.columns.entries()) {
        const { arrowType, ...facts } = column;
        const { arrowType: plainType, ...plainFacts } = plainSchema.columns[i] as (typeof schema.columns)[0];
        expect(facts, column.name).toEqual(plainFacts);
        const expected = paths.includes(column.name) ? /^RunEndEncoded<Int(16|32|64), / : /^(Float64|Int32)$/;
        expect(arrowType, column.name).toMatch(expected);
        if (paths.includes(column.name)) expect(arrowType).toContain(`, ${plainType}>`);
      }
      expect(schema.columns.find((c) => c.name === 'span')).toMatchObject({
        arrowType: 'RunEndEncoded<Int16, Interval<MONTH_DAY_NANO>>',
        encoding: 'interval',
        components: 4,
        gpuType: 'i32',
      });
    });
  }

  it('lists a column apache-arrow cannot decode as skipped, as a load does', async () => {
    const table = new Table({
      a: vectorFromArray(Int32Array.of(1, 2, 3)),
      lv: vectorFromArray([[1], [], [2, 3]], new List(new Field('item', new Int32(), true))),
    });
    // Only the schema is read: the batches need not lay out a ListView.
    const bytes = retyped(table, { tags: { lv: TypeTag.ListView }, buffers: (b) => b }, 'stream');
    const schema = await inspect(bytes);
    expect(schema.columns.map((c) => c.name)).toEqual(['a']);
    expect(schema.skipped).toEqual([
      { name: 'lv', arrowType: 'ListView<Int32>', reason: expect.stringContaining('cannot be decoded') },
    ]);
    expect(await codeOf(inspect(bytes, { unsupported: 'error' }))).toBe('UNSUPPORTED_TYPE');
  });
});
