import {
  Bool,
  type DataType,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import type { BufferChunk } from '../../src/core/gpu/upload/table-uploader.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import { tailOf, whole } from '../support/byte-sources.js';
import { readBytes, withContext } from '../support/dawn.js';
import { mismatches, type ReadBack } from '../support/expected-words.js';

// Columns longer than one buffer are stored as chunks of whole rows within `chunkBytes`, appended
// without copying; read back, the chunks give every row exactly, across every chunk edge.

const MiB = 1 << 20;

/** One column of `rows` rows of `type`, whose words are `words` (a fixed-width type). */
function oneColumnTable(name: string, type: DataType, rows: number, data: ArrayBufferView): Uint8Array {
  const vector = makeVector(makeData({ type, length: rows, nullCount: 0, data } as never));
  return tableToIPC(new Table({ [name]: vector }), 'stream');
}

async function chunksOf(context: GpuContext, chunks: readonly BufferChunk[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const chunk of chunks)
    out.push(await readBytes(context.device, context.tracker, chunk.buffer, chunk.byteLength));
  return out;
}

/** The words of a column's chunks, one after the other. */
async function wordsOf(context: GpuContext, chunks: readonly BufferChunk[]): Promise<Uint32Array> {
  const parts = await chunksOf(context, chunks);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return new Uint32Array(out.buffer);
}

describe('columns larger than one chunk', () => {
  // 64 MiB and a few rows of each word size, in chunks of at most 16 MiB.
  const cases: Array<[string, number, (rows: number) => { type: DataType; data: ArrayBufferView }]> = [
    [
      '1 word (Int32)',
      1,
      (rows) => ({ type: new Int32(), data: Int32Array.from({ length: rows }, (_, i) => i * 7 - 3) }),
    ],
    [
      '2 words (Int64)',
      2,
      (rows) => ({
        type: new Int64(),
        data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i) * 4294967311n),
      }),
    ],
    [
      '4 words (FixedSizeList<Int32, 4>)',
      4,
      (rows) => {
        const child = Int32Array.from({ length: rows * 4 }, (_, i) => i ^ 0x5a5a5a5a);
        const type = new FixedSizeList(4, new Field('v', new Int32()));
        const childData = makeData({ type: new Int32(), length: rows * 4, nullCount: 0, data: child });
        return { type, data: childData as never };
      },
    ],
  ];
  for (const [what, words, make] of cases) {
    it(`${what}: a 64 MiB column in 16 MiB chunks reads back exactly, every chunk a whole number of rows`, async () => {
      const rows = (64 * MiB) / (4 * words) + 37;
      const { type, data } = make(rows);
      const bytes =
        type instanceof FixedSizeList
          ? tableToIPC(
              new Table({
                c: makeVector(makeData({ type, length: rows, nullCount: 0, child: data } as never)),
              }),
              'stream',
            )
          : oneColumnTable('c', type, rows, data);
      await withContext(async (context) => {
        const table = await runPipeline({
          gpu: context,
          source: whole(bytes),
          readTail: tailOf(bytes),
          url: 'test://chunks',
          bytesTotal: bytes.byteLength,
          upload: 'staging',
          chunkBytes: 16 * MiB,
        });
        const column = table.columns[0];
        if (!column) throw new Error('no column');
        expect(column.values.length).toBe(5);
        for (const chunk of column.values) expect(chunk.byteLength).toBeLessThanOrEqual(16 * MiB);
        expect(column.values.map((c) => c.rowOffset)).toEqual(
          column.values.map((_, k) => k * (column.values[0]?.rows ?? 0)),
        );
        expect(column.values.reduce((n, c) => n + c.rows, 0)).toBe(rows);
        const parts = await chunksOf(context, column.values);
        const source = new Uint8Array(
          'buffer' in data && !(type instanceof FixedSizeList)
            ? (data as Int32Array).buffer
            : ((data as unknown as { values: Int32Array }).values.buffer as ArrayBuffer),
        );
        let at = 0;
        for (const [k, part] of parts.entries()) {
          const expected = source.subarray(at, at + part.byteLength);
          // Compared whole: a chunk that is shifted by one row, or cut short, differs from its source.
          expect(Buffer.compare(Buffer.from(part), Buffer.from(expected)), `chunk ${k}`).toBe(0);
          at += part.byteLength;
        }
        expect(at).toBe(rows * 4 * words);
        for (const chunk of column.values) context.tracker.destroy(chunk.buffer);
      });
    }, 120_000);
  }

  it('bool values, validity and struct children line up across small chunks, batch after batch', async () => {
    const schema = new Schema([
      new Field('flag', new Bool(), true),
      new Field('n', new Int32(), true),
      new Field('s', new Utf8(), true),
      new Field('p', new Struct([new Field('x', new Float32(), true)]), true),
    ]);
    const batches: RecordBatch[] = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (const size of [1000, 33, 2047, 1, 900]) {
      const maybe = <T>(v: T) => (next() < 0.2 ? null : v);
      const children = [
        vectorFromArray(
          Array.from({ length: size }, () => maybe(next() < 0.5)),
          new Bool(),
        ),
        vectorFromArray(
          Array.from({ length: size }, (_, i) => maybe(i)),
          new Int32(),
        ),
        vectorFromArray(
          Array.from({ length: size }, () => maybe(`v${Math.floor(next() * 9)}`)),
          new Utf8(),
        ),
        vectorFromArray(
          Array.from({ length: size }, () => maybe({ x: Math.fround(next()) })),
          schema.fields[3]?.type as Struct,
        ),
      ];
      const data = makeData({
        type: new Struct(schema.fields),
        length: size,
        nullCount: 0,
        children: children.map((c) => c.data[0]),
      } as never);
      batches.push(new RecordBatch(schema, data as never));
    }
    const source = new Table(batches);
    const bytes = tableToIPC(source, 'stream');
    await withContext(async (context) => {
      // 256 bytes: 64 rows of an Int32 column a chunk, so every batch crosses chunk edges.
      const table = await runPipeline({
        gpu: context,
        source: whole(bytes),
        url: 'test://small-chunks',
        bytesTotal: null,
        upload: 'writeBuffer',
        chunkBytes: 256,
      });
      for (const column of table.columns) {
        expect(column.values.length, column.plan.name).toBeGreaterThan(1);
        const words = await wordsOf(context, column.values);
        const validity = column.validity ? await wordsOf(context, column.validity) : null;
        const readBack: ReadBack = {
          name: column.plan.name,
          encoding: column.plan.encoding,
          components: column.plan.components,
          words: Array.from(words),
          validity: validity ? Array.from(validity) : null,
          dictionary:
            column.encoder && 'values' in column.encoder
              ? (column.encoder as unknown as { values(): unknown[] }).values()
              : null,
        };
        expect(mismatches(source, readBack), column.plan.name).toEqual([]);
        for (const chunk of [...column.values, ...(column.validity ?? [])])
          context.tracker.destroy(chunk.buffer);
      }
    });
  });
});
