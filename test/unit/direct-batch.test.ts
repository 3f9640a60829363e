import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Binary,
  Bool,
  CompressionType,
  type Data,
  DateDay,
  Dictionary,
  Field,
  FixedSizeBinary,
  Float16,
  Float32,
  Float64,
  Int8,
  Int32,
  Int64,
  List,
  makeData,
  Null,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Uint16,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { BufferRegion, FieldNode } from 'apache-arrow/ipc/metadata/message';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { random as randomOf } from '../../scripts/datasets.js';
import { checkBatch } from '../../src/core/columns/check-batch.js';
import { type ColumnSlice, columnSlice, type PreparedBatch } from '../../src/core/columns/column-data.js';
import { type ColumnPlan, planColumns } from '../../src/core/columns/type-plan.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import { type BatchStream, openBatchStream } from '../../src/core/ipc/decode.js';
import { type FramedMessage, IpcFramer } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { directReader } from '../../src/core/pipeline/direct-batch.js';
import { toBigEndian } from '../support/big-endian.js';
import { chunked, tailOf, whole } from '../support/byte-sources.js';
import { writeCompressed } from '../support/compressed-ipc.js';

const URL = 'test://direct';

/** Columns of every flat type the direct reader takes, with a struct and a list between them (not planned). */
const FLAT_COLUMNS = ['i8', 'u16', 'i32', 'i64', 'u64', 'f16', 'f32', 'f64', 'bool', 'day', 'ts'] as const;
const TEXT_COLUMNS = ['text', 'bin', 'fixed', 'none'] as const;

function column(name: string, rows: number, random: () => number, nullRate: number) {
  const maybe = <T>(value: () => T): T | null => (random() < nullRate ? null : value());
  const values = <T>(value: () => T) => Array.from({ length: rows }, () => maybe(value));
  const int = (bits: number) => () => Math.floor(random() * 2 ** bits) - 2 ** (bits - 1);
  switch (name) {
    case 'i8':
      return vectorFromArray(values(int(8)), new Int8());
    case 'u16':
      return vectorFromArray(
        values(() => Math.floor(random() * 65536)),
        new Uint16(),
      );
    case 'i32':
      return vectorFromArray(values(int(32)), new Int32());
    case 'i64':
      return vectorFromArray(
        values(() => BigInt(int(53)())),
        new Int64(),
      );
    case 'u64':
      return vectorFromArray(
        values(() => BigInt(Math.floor(random() * 2 ** 53))),
        new Uint64(),
      );
    case 'f16':
      return vectorFromArray(
        values(() => Math.round(random() * 2000 - 1000) / 8),
        new Float16(),
      );
    case 'f32':
      return vectorFromArray(
        values(() => random() * 1e6),
        new Float32(),
      );
    case 'f64':
      return vectorFromArray(
        values(() => (random() - 0.5) * 1e300),
        new Float64(),
      );
    case 'bool':
      return vectorFromArray(
        values(() => random() < 0.5),
        new Bool(),
      );
    case 'day':
      return vectorFromArray(
        values(() => new Date(Math.floor(random() * 1e4) * 86_400_000)),
        new DateDay(),
      );
    case 'ts':
      return vectorFromArray(
        values(() => Math.floor(random() * 1e12)),
        new TimestampMillisecond(),
      );
    case 'text':
      return vectorFromArray(
        values(() => 'é'.repeat(Math.floor(random() * 4)) + String(random())),
        new Utf8(),
      );
    case 'bin':
      return vectorFromArray(
        values(() => Uint8Array.from({ length: Math.floor(random() * 5) }, () => random() * 256)),
        new Binary(),
      );
    case 'fixed':
      return vectorFromArray(
        values(() => Uint8Array.from({ length: 3 }, () => random() * 256)),
        new FixedSizeBinary(3),
      );
    case 'none':
      return vectorFromArray(new Array(rows).fill(null), new Null());
    case 'point': {
      const x = makeData({
        type: new Int32(),
        length: rows,
        data: Int32Array.from({ length: rows }, int(31)),
      });
      const type = new Struct([new Field('x', new Int32())]);
      return new Table({ point: makeData({ type, length: rows, children: [x] }) }).getChild('point');
    }
    default:
      return vectorFromArray(
        values(() => [Math.floor(random() * 9)]),
        new List(new Field('item', new Int32())),
      );
  }
}

const ALL = [
  'i8',
  'point',
  'u16',
  'i32',
  'i64',
  'u64',
  'list',
  'f16',
  'f32',
  'f64',
  'bool',
  'day',
  'ts',
  ...TEXT_COLUMNS,
];

/** An IPC stream of batches of `sizes` rows with every column of `ALL`, all of one schema. */
function streamOf(seed: number, sizes: readonly number[], nullRate: number): Uint8Array {
  const random = randomOf(seed); // fast-check's seed decides every value
  let schema: Schema | null = null;
  const batches = sizes.map((rows) => {
    const children = ALL.map((name) => column(name, rows, random, nullRate)?.data[0] as Data);
    schema ??= new Schema(ALL.map((name, i) => new Field(name, (children[i] as Data).type, true)));
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, children }));
  });
  return RecordBatchStreamWriter.writeAll(batches).toUint8Array(true);
}

/** The stream's batches, read with the direct reader for `plans` where it takes them. */
async function readBatches(
  source: AsyncIterable<Uint8Array>,
  columns?: string[],
): Promise<{
  stream: BatchStream<PreparedBatch>;
  plans: ColumnPlan[];
  batches: (RecordBatch | PreparedBatch)[];
}> {
  const stream = await openBatchStream<PreparedBatch>(new IpcFramer(source, URL), URL);
  const { plans } = planColumns(stream.schema, { columns, unsupported: 'skip' }, URL);
  stream.direct = directReader(stream.schema, stream.layout, plans, URL);
  const batches: (RecordBatch | PreparedBatch)[] = [];
  for await (const { batch } of stream.batches) batches.push(batch);
  return { stream, plans, batches };
}

/** What the uploader reads of a slice: its validity and every buffer of its data, as bytes. */
function described(slice: ColumnSlice) {
  const bytes = (view: ArrayBufferView | undefined | null) =>
    view
      ? [view.constructor.name, Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))]
      : null;
  const data: Data = slice.data;
  return {
    type: String(data.type),
    length: data.length,
    offset: data.offset,
    stride: data.stride,
    nullCount: data.nullCount,
    values: bytes(data.values),
    valueOffsets: bytes(data.valueOffsets),
    nullBitmap: bytes(data.nullBitmap),
    bitmap: bytes(slice.bitmap),
    bitOffset: slice.bitOffset,
    sliceNulls: slice.nullCount,
  };
}

const isPrepared = (batch: RecordBatch | PreparedBatch): batch is PreparedBatch => 'slices' in batch;

describe('the direct reader: record batches read without apache-arrow', () => {
  it('makes every planned column exactly as apache-arrow does, whole and in chunks cut anywhere', async () => {
    const planned = [...FLAT_COLUMNS, ...TEXT_COLUMNS];
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(0, 0.1, 0.6),
        fc.array(fc.integer({ min: 1, max: 4099 }), { minLength: 1, maxLength: 6 }),
        async (seed, sizes, nullRate, cuts) => {
          const bytes = streamOf(seed, sizes, nullRate);
          const reference = await openBatchStream(new IpcFramer(whole(bytes), URL), URL);
          const { plans } = planColumns(reference.schema, { columns: planned, unsupported: 'skip' }, URL);
          const expected: unknown[] = [];
          const rows: number[] = [];
          for await (const { batch } of reference.batches) {
            expected.push(plans.map((plan) => described(columnSlice(batch, plan))));
            rows.push(batch.numRows);
          }
          // After a 1-byte chunk every body lies off 8-byte alignment in its chunk.
          const shifted = chunked(bytes, [1, bytes.byteLength]);
          for (const source of [whole(bytes), chunked(bytes, cuts), shifted]) {
            const { batches } = await readBatches(source, planned);
            expect(batches.every(isPrepared)).toBe(true);
            expect(batches.map((batch) => (batch as PreparedBatch).slices.map(described))).toEqual(expected);
            expect(batches.map((batch) => batch.numRows)).toEqual(rows);
            expect(rows).toEqual(sizes);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("reads Arrow C++'s integration files as apache-arrow does, or leaves them to it", async () => {
    const read: string[] = [];
    for (const dir of ['1.0.0-littleendian', '2.0.0-compression']) {
      const path = join(import.meta.dirname, '../data/arrow-testing', dir);
      for (const name of readdirSync(path).filter((n) => /\.(stream|arrow_file)$/.test(n))) {
        const bytes = new Uint8Array(readFileSync(join(path, name)));
        const open = () =>
          openBatchStream<PreparedBatch>(new IpcFramer(whole(bytes), name, undefined, tailOf(bytes)), name);
        const reference = await open();
        const plans = planColumns(reference.schema, { unsupported: 'skip' }, name).plans.filter(
          (plan) => plan.path.length === 1 && !plan.runEndEncoded,
        );
        const expected: unknown[] = [];
        for await (const { batch } of reference.batches)
          expected.push(plans.map((plan) => described(columnSlice(batch as RecordBatch, plan))));
        const stream = await open();
        stream.direct = directReader(stream.schema, stream.layout, plans, name);
        const actual: unknown[] = [];
        for await (const { batch } of stream.batches) {
          if (isPrepared(batch)) read.push(name);
          actual.push(
            isPrepared(batch)
              ? batch.slices.map(described)
              : plans.map((p) => described(columnSlice(batch, p))),
          );
        }
        expect(actual, name).toEqual(expected);
      }
    }
    // Primitive, temporal, decimal, interval and null columns, as C++ writes them, went the direct way.
    for (const file of ['primitive', 'datetime', 'decimal', 'interval', 'null'])
      expect(
        read.some((name) => name.startsWith(`generated_${file}.`)),
        file,
      ).toBe(true);
    expect(read.some((name) => name.includes('lz4') || name.includes('zstd'))).toBe(false);
  });

  it("makes the same data as apache-arrow's own loader, whatever bitmaps the writer left", async () => {
    const schema = new Schema([new Field('a', new Int32(), true), new Field('s', new Utf8(), true)]);
    const stream = await openBatchStream<PreparedBatch>(
      new IpcFramer(whole(RecordBatchStreamWriter.writeAll(new Table(schema)).toUint8Array(true)), URL),
      URL,
    );
    const plans = planColumns(stream.schema, {}, URL).plans;
    const read = directReader(stream.schema, stream.layout, plans, URL);
    if (!read) throw new Error('no direct reader');
    // 8 rows: a's bitmap (8 bytes), its values (32), s's bitmap (8), offsets (36), text (8).
    const body = new Uint8Array(96).map((_, i) => (i * 37) & 0xff);
    const offsets = new Int32Array(body.buffer, 48, 9);
    for (let i = 0; i < 9; i++) offsets[i] = i;
    const regions = [
      [0, 8],
      [8, 32],
      [40, 8],
      [48, 36],
      [88, 8],
    ].map(([offset, length]) => ({
      offset: offset as number,
      length: length as number,
    }));
    // Null counts 0 over a full bitmap (ignored), and counts that the bitmap's bits do not match.
    for (const nulls of [
      [0, 0],
      [3, 0],
      [0, 5],
      [8, 8],
    ]) {
      const shape = { nodes: 2, buffers: 5, nodeLengths: [8, 8], nodeNullCounts: nulls, dictionaryId: null };
      const batch = { ...shape, compression: null, regions, variadicCounts: [] };
      const header = { kind: MessageKind.RecordBatch, bodyLength: 96, rows: 8, batch, layout: null };
      const message = {
        prefix: new Uint8Array(0),
        body,
        header,
        byteOffset: 0,
        bodyOffset: 0,
        endOffset: 96,
      };
      const ours = read(message, 0);
      const nodes = nulls.map((n) => new FieldNode(8, n));
      const buffers = regions.map((r) => new BufferRegion(r.offset, r.length));
      const theirs = new VectorLoader(body, nodes, buffers, new Map()).visitMany(schema.fields) as Data[];
      const struct = makeData({ type: new Struct(schema.fields), length: 8, children: theirs });
      const theirBatch = new RecordBatch(schema, struct);
      const slices = plans.map((plan) => columnSlice(theirBatch, plan));
      expect(ours?.slices.map(described), String(nulls)).toEqual(slices.map(described));
    }
  });

  it('is not made for a struct child, and batches of a schema with dictionaries go to apache-arrow', async () => {
    const bytes = streamOf(7, [10, 20], 0.1);
    const nested = await readBatches(whole(bytes), ['point.x', 'i32']);
    expect(nested.stream.direct).toBeNull();
    const dictionary = vectorFromArray(['a', 'b', null, 'a'], new Dictionary(new Utf8(), new Int32()));
    const table = new Table({ tag: dictionary, n: vectorFromArray([1, 2, 3, 4], new Int32()) });
    const { stream, batches } = await readBatches(
      whole(RecordBatchStreamWriter.writeAll(table).toUint8Array(true)),
      ['n'],
    );
    expect(stream.direct).not.toBeNull(); // made, but the stream leaves such a schema's batches to apache-arrow
    expect(batches.length).toBe(1);
    expect(batches[0]).toBeInstanceOf(RecordBatch);
  });

  it('leaves the batches after a second schema message to apache-arrow, which reads them by that schema', async () => {
    const first = RecordBatchStreamWriter.writeAll(new Table({ a: vectorFromArray([1, 2], new Int32()) }));
    const second = new Table({
      x: vectorFromArray(['p', 'q'], new Utf8()),
      a: vectorFromArray([3, 4], new Int32()),
    });
    const head = first.toUint8Array(true);
    const tail = RecordBatchStreamWriter.writeAll(second).toUint8Array(true);
    // The first stream without its end-of-stream marker, then the second: one stream, two schemas.
    const bytes = new Uint8Array([...head.subarray(0, head.byteLength - 8), ...tail]);
    const { batches, plans } = await readBatches(whole(bytes), ['a']);
    expect(batches.map(isPrepared)).toEqual([true, false]);
    // The load then checks that batch against the first schema's plan, as before, and finds `a` moved.
    const error = await Promise.resolve()
      .then(() => checkBatch(batches[1] as RecordBatch, plans, { url: URL, batch: 1, byteOffset: 0 }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SCHEMA_MISMATCH' });
  });

  it('leaves compressed batches and big-endian sources to apache-arrow', async () => {
    const table = new Table({
      a: vectorFromArray([1, 2, null, 4], new Int32()),
      b: vectorFromArray([0.5, 1, 2, 3]),
    });
    for (const codec of [CompressionType.LZ4_FRAME, CompressionType.ZSTD]) {
      const { stream, batches } = await readBatches(whole(writeCompressed(table, codec, 'stream')));
      expect(stream.direct).not.toBeNull();
      expect(batches.map((batch) => batch instanceof RecordBatch)).toEqual([true]);
      expect((batches[0] as RecordBatch).getChild('a')?.toArray()).toEqual(table.getChild('a')?.toArray());
    }
    const little = RecordBatchStreamWriter.writeAll(table).toUint8Array(true);
    const big = await readBatches(whole(toBigEndian(little)));
    expect(big.stream.layout?.bigEndian).toBe(true);
    expect(big.stream.direct).toBeNull();
  });

  it('fails a column shorter than its rows as apache-arrow batches fail: CORRUPT, naming column, batch and byte', async () => {
    const bytes = streamOf(3, [64], 0);
    const stream = await openBatchStream<PreparedBatch>(new IpcFramer(whole(bytes), URL), URL);
    const { plans } = planColumns(stream.schema, { columns: ['i32'], unsupported: 'skip' }, URL);
    const read = directReader(stream.schema, stream.layout, plans, URL);
    let message: FramedMessage | undefined;
    const framer = new IpcFramer(whole(bytes), URL);
    for await (const m of framer) if (m.header.kind === MessageKind.RecordBatch) message = m;
    const shape = message?.header.batch;
    if (!read || !message || !shape) throw new Error('no record batch');
    const node = stream.layout?.topLevelNodes[plans[0]?.path[0] as number] as number;
    const values = (stream.layout?.layout.slice(0, node) ?? []).reduce((n, l) => n + l.buffers.length, 0) + 1;
    const regions = shape.regions.map((r, i) => (i === values ? { offset: r.offset, length: 60 } : r));
    const short = { ...message, header: { ...message.header, batch: { ...shape, regions } } };
    const error = await Promise.resolve()
      .then(() => read(short, 5))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArrowGpuError);
    expect(error).toMatchObject({
      code: 'CORRUPT',
      details: { column: 'i32', batch: 5, byteOffset: message.byteOffset },
    });
    expect(read(message, 5)?.numRows).toBe(64);
  });
});
