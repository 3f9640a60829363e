import {
  CompressionType,
  DateDay,
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int16,
  Int32,
  LargeUtf8,
  List,
  type RecordBatch,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { decompress } from 'fzstd';
import { describe, expect, it, vi } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { LZ4_MAX_RATIO } from '../../src/core/ipc/compression/buffer-bounds.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { chunked } from '../support/byte-sources.js';
import {
  batchMessages,
  lz4Frame,
  prefixOffsets,
  writeCompressed,
  zstdRleBomb,
} from '../support/compressed-ipc.js';

// Every ZSTD decompression goes through this spy, so that a test can tell a bomb was never expanded.
vi.mock('fzstd', async (importOriginal) => {
  const fzstd = await importOriginal<typeof import('fzstd')>();
  return { ...fzstd, decompress: vi.fn(fzstd.decompress) };
});

const URL = 'test://compressed';

async function decodeAll(bytes: Uint8Array): Promise<RecordBatch[]> {
  const readTail = async (n: number) => bytes.subarray(Math.max(0, bytes.byteLength - n));
  const framer = new IpcFramer(chunked(bytes, [4096, 333]), URL, undefined, readTail);
  const stream = await openBatchStream(framer, URL);
  const out: RecordBatch[] = [];
  for await (const { batch } of stream.batches) out.push(batch);
  return out;
}

async function failureOf(bytes: Uint8Array): Promise<ArrowGpuError> {
  try {
    await decodeAll(bytes);
  } catch (error) {
    if (error instanceof ArrowGpuError) return error;
    throw error;
  }
  throw new Error('the bytes loaded');
}

/** Rows as plain JSON, for comparing decoded tables. */
function rowsOf(batches: readonly RecordBatch[]): string {
  const rows = batches.flatMap((b) => b.toArray().map((row) => row?.toJSON()));
  return JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

const ROWS = 2048;

/** A mostly-zero table of many types, so that the test encoders compress most of its buffers. */
function manyTypes(): Table {
  const rare = (i: number) => i % 1000 === 999;
  const ints = Array.from({ length: ROWS }, (_, i) => (i % 500 === 7 ? null : rare(i) ? i : 0));
  const text = Array.from({ length: ROWS }, (_, i) =>
    i % 700 === 3 ? null : rare(i) ? 'x'.repeat(300) : '',
  );
  const lists = Array.from({ length: ROWS }, (_, i) => (rare(i) ? [1, 2, 3] : []));
  const fixed = Array.from({ length: ROWS }, (_, i) => (rare(i) ? [1, 2, 3] : [0, 0, 0]));
  const pairs = Array.from({ length: ROWS }, (_, i) => ({ a: rare(i) ? 5 : 0, b: rare(i) ? 'yy' : '' }));
  const item = new Field('item', new Int32(), true);
  return new Table({
    ints: vectorFromArray(ints, new Int32()),
    floats: vectorFromArray(ints, new Float64()),
    flags: vectorFromArray(ints.map((v) => v !== 0)),
    text: vectorFromArray(text, new Utf8()),
    large: vectorFromArray(text, new LargeUtf8()),
    days: vectorFromArray(ints, new DateDay()),
    list: vectorFromArray(lists, new List(item)),
    fixed: vectorFromArray(fixed, new FixedSizeList(3, new Field('item', new Float32(), true))),
    pair: vectorFromArray(
      pairs,
      new Struct([new Field('a', new Int16(), true), new Field('b', new Utf8(), true)]),
    ),
    dict: vectorFromArray(
      Array.from({ length: ROWS }, (_, i) => (rare(i) ? 'south' : 'north')),
      new Dictionary(new Utf8(), new Int32()),
    ),
  });
}

/** One Int32 column `a` of `rows` zeros (64 KiB of values at 16384 rows), in `batches` batches. */
function zeros(rows = 16384, batches = 1): Table {
  const batch = () => new Table({ a: vectorFromArray(new Array<number>(rows).fill(0), new Int32()) });
  return new Table(Array.from({ length: batches }, () => batch().batches[0] as RecordBatch));
}

/** The record batch messages' `index`-th buffer prefix offset. */
function prefixAt(bytes: Uint8Array, batch: number, buffer: number, kind: number = MessageKind.RecordBatch) {
  const message = batchMessages(bytes).filter((m) => m.kind === kind)[batch];
  const at = message ? prefixOffsets(message)[buffer] : null;
  if (at === null || at === undefined) throw new Error(`no compressed buffer ${buffer} in batch ${batch}`);
  return at;
}

function declare(bytes: Uint8Array, at: number, length: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setBigInt64(at, BigInt(length), true);
}

const CODECS = [
  ['ZSTD', CompressionType.ZSTD],
  ['LZ4 frame', CompressionType.LZ4_FRAME],
] as const;

describe('compressed buffers are bounded by their batch before they are decompressed', () => {
  for (const [name, codec] of CODECS) {
    for (const format of ['stream', 'file'] as const) {
      it(`honest ${name} ${format}s of many types decode as written`, async () => {
        const table = manyTypes();
        const bytes = writeCompressed(table, codec, format);
        const compressed = batchMessages(bytes)
          .flatMap(prefixOffsets)
          .filter((at) => at !== null && new DataView(bytes.buffer).getBigInt64(at, true) !== -1n);
        expect(compressed.length).toBeGreaterThan(15);
        const expected = rowsOf(tableFromIPC(tableToIPC(table)).batches);
        expect(rowsOf(await decodeAll(bytes))).toEqual(expected);
      });
    }
  }

  it('rejects a ZSTD RLE bomb that declares far more than rows × width with CORRUPT, before decompressing it', async () => {
    const bomb = zstdRleBomb(1 << 30);
    let calls = 0;
    // The second batch's values become a valid 32 KiB frame of 1 GiB of zeros; its prefix says 1 GiB too.
    const bytes = writeCompressed(zeros(16384, 2), CompressionType.ZSTD, 'stream', (b) =>
      b.byteLength === 65536 && ++calls === 2 ? bomb : undefined,
    );
    const at = prefixAt(bytes, 1, 1);
    vi.mocked(decompress).mockClear();
    const started = performance.now();
    const error = await failureOf(bytes);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.code).toBe('CORRUPT');
    expect(error.details).toMatchObject({
      batch: 1,
      column: 'a',
      byteOffset: at,
      expected: 65536,
      actual: 2 ** 30,
    });
    expect(error.message).toContain(`byte offset ${at}: record batch 1, column "a"`);
    expect(error.message).toContain('16384 values of 4 bytes');
    // Only the first batch's buffers were decompressed, none into more than 64 KiB.
    const outputs = vi.mocked(decompress).mock.calls.map(([, out]) => out?.byteLength ?? Infinity);
    expect(outputs.every((n) => n <= 65536)).toBe(true);
  });

  it('rejects variable-size values declaring more than their last offset, reading compressed offsets', async () => {
    const text = Array.from({ length: 4096 }, (_, i) => (i >= 4088 ? 'x'.repeat(200) : ''));
    const table = new Table({ s: vectorFromArray(text, new Utf8()) });
    const bytes = writeCompressed(table, CompressionType.ZSTD, 'stream');
    const offsets = prefixAt(bytes, 0, 1);
    expect(new DataView(bytes.buffer).getBigInt64(offsets, true)).toBe(4097n * 4n); // compressed
    const values = prefixAt(bytes, 0, 2);
    declare(bytes, values, 1 << 20);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.details).toMatchObject({ batch: 0, column: 's', byteOffset: values, expected: 1600 });
    expect(error.details.actual).toBe(1 << 20);
  });

  it("bounds a list's child by the list's last offset, and names the nested field", async () => {
    const lists = Array.from({ length: 4096 }, (_, i) => (i >= 4090 ? [0, 0, 0, 0] : []));
    const table = new Table({ l: vectorFromArray(lists, new List(new Field('item', new Int32(), true))) });
    const bytes = writeCompressed(table, CompressionType.LZ4_FRAME, 'stream');
    const child = prefixAt(bytes, 0, 3); // validity, offsets, then the child's validity and values
    declare(bytes, child, 24 * 4 + 4096);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.details).toMatchObject({ column: 'l', byteOffset: child, expected: 128 });
    expect(error.message).toContain('(field l.item)');
  });

  it("bounds a dictionary batch's values by the dictionary's length", async () => {
    const words = Array.from({ length: 64 }, (_, i) => (i % 2 ? 'z'.repeat(1000) : 'z'.repeat(999)));
    const table = new Table({ d: vectorFromArray(words, new Dictionary(new Utf8(), new Int32())) });
    const bytes = writeCompressed(table, CompressionType.ZSTD, 'stream');
    const values = prefixAt(bytes, 0, 2, MessageKind.DictionaryBatch);
    declare(bytes, values, 1 << 24);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.details).toMatchObject({ batch: 0, column: 'd', byteOffset: values, expected: 2048 });
    expect(error.message).toMatch(/dictionary batch \(id \d+\) before record batch 0, column "d"/);
  });

  it(`rejects an LZ4 frame declaring more than ${LZ4_MAX_RATIO} × its compressed size, even within rows × width`, async () => {
    const tiny = lz4Frame(new Uint8Array(16));
    const bytes = writeCompressed(zeros(), CompressionType.LZ4_FRAME, 'stream', (b) =>
      b.byteLength === 65536 ? tiny : undefined,
    );
    const at = prefixAt(bytes, 0, 1);
    declare(bytes, at, 65536);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.details).toMatchObject({ column: 'a', byteOffset: at, expected: 255 * tiny.byteLength });
    expect(error.message).toContain('the largest LZ4 frame ratio');
  });

  it('rejects an LZ4 frame declaring more than rows × width, even within its ratio', async () => {
    const bytes = writeCompressed(zeros(), CompressionType.LZ4_FRAME, 'stream');
    const at = prefixAt(bytes, 0, 1);
    const frameBytes = (batchMessages(bytes)[0]?.buffers[1]?.length ?? 0) - 8;
    expect(frameBytes * LZ4_MAX_RATIO).toBeGreaterThan(70000);
    declare(bytes, at, 70000);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.details).toMatchObject({
      batch: 0,
      column: 'a',
      byteOffset: at,
      expected: 65536,
      actual: 70000,
    });
  });
});
