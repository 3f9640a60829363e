import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import {
  CompressionType,
  Dictionary,
  Int32,
  MessageReader,
  makeData,
  makeVector,
  RecordBatch,
  Table,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import type { ColumnKind } from '../../scripts/datasets.js';
import type { EncodingRequest } from '../../src/core/columns/encoding.js';
import type { ArrowGpuError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { BodyCuts } from '../../src/core/ipc/body-cuts.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { type LoadedTable, type PipelineInput, runPipeline } from '../../src/core/pipeline/load.js';
import { DecodePool } from '../../src/core/pipeline/pool/decode-pool.js';
import type { BodyFileSpec, ByteSource } from '../../src/core/source/byte-source.js';
import { ReadWorkerClient } from '../../src/core/source/read-worker/read-client.js';
import {
  nodeDecodeWorker,
  startTsxDecodeWorker,
  tsxDecodeWorkers,
} from '../../workers/node-decode-workers.js';
import { nodeFileSource } from '../../workers/node-file-source.js';
import { encodeDataset, streamed, tailOf, trickle, whole } from '../support/byte-sources.js';
import { batchMessages, prefixOffsets, writeCompressed } from '../support/compressed-ipc.js';
import { until, withContext } from '../support/dawn.js';
import { batchOf, everyTypeTable } from '../support/every-type.js';
import { type ColumnImage, destroyColumns, readColumns } from '../support/gpu-columns.js';
import { moreTypesTable } from '../support/more-types.js';
import { channelReadWorker } from '../support/read-worker.js';
import { rejectionOf } from '../support/rejection.js';
import { runEndIpc } from '../support/run-end-ipc.js';
import { runEndTables } from '../support/run-end-table.js';

// Loads through a pool of decode workers (worker_threads running workers/decode.node.ts) against the
// same loads decoded on the loader's thread: every column's GPU bytes, validity, null count, dictionary
// and encoding extras must be identical; a worker that dies fails the load, naming the batch.

const URL = 'test://decode-pool';
/** Every encoding of the every-type table: f64 kept exact, two columns asked for the lossy 64-bit forms. */
const EVERY_ENCODING = { f64: 'f64', 'point.lat': 'f32x2', ts: 'f32-relative' } as const;
const WORKER_COUNTS = [1, 2, 4] as const;

/** One pool for the file, as a loader keeps one: workers start once and serve every load. */
const pool = new DecodePool(tsxDecodeWorkers(4).spawn, true);
afterAll(() => pool.terminate());

interface Case {
  name: string;
  bytes: () => Uint8Array;
  encodings?: EncodingRequest;
  /** Bytes a source piece holds: bodies then straddle pieces (joined) or share one (copied). */
  chunkSize?: number;
  /** Pieces as Node `Buffer`s, which small ones share a slab with others (as a file stream's may). */
  nodeBuffers?: boolean;
}

/** Streams whose dictionary grows by deltas (a dictionary message with `isDelta` before some batches). */
function deltaTable(): Table {
  const type = new Dictionary(new Utf8(), new Int32(), 3);
  let dictionary: Vector = vectorFromArray(['a', 'b'], new Utf8());
  const batches: RecordBatch[] = [];
  for (let b = 0; b < 7; b++) {
    if (b > 0 && b % 2 === 1) dictionary = dictionary.concat(vectorFromArray([`v${b}`, `w${b}`], new Utf8()));
    const rows = 40 + b * 9;
    const indices = Int32Array.from({ length: rows }, (_, i) => (i * 7 + b) % dictionary.length);
    const data = makeData({ type, length: rows, nullCount: 0, data: indices, dictionary });
    const n = vectorFromArray(Int32Array.from({ length: rows }, (_, i) => i * b));
    batches.push(batchOf(rows, { cat: makeVector(data), n }));
  }
  const schema = (batches[0] as RecordBatch).schema;
  return new Table(batches.map((batch) => new RecordBatch(schema, batch.data)));
}

function deltaMessages(bytes: Uint8Array): number {
  let deltas = 0;
  const reader = new MessageReader(bytes);
  for (const message of reader) {
    if (message.isDictionaryBatch() && message.header().isDelta) deltas++;
    reader.readMessageBody(message.bodyLength);
  }
  return deltas;
}

/** 160 columns: a record batch's metadata (a node and two buffers a column) is over 4 KiB. */
function wideTable(): Uint8Array {
  const kinds: ColumnKind[] = ['f32', 'i32'];
  const columns = Object.fromEntries(
    Array.from({ length: 160 }, (_, i) => [`c${i}`, kinds[i % 2] as ColumnKind]),
  );
  return encodeDataset({ rows: 3001, batchRows: 1000, format: 'stream', columns, nulls: { c3: 0.5 } });
}

const runEnd = runEndTables();
const CASES: readonly Case[] = [
  {
    name: 'every encoding, stream',
    bytes: () => tableToIPC(everyTypeTable('stream'), 'stream'),
    encodings: EVERY_ENCODING,
  },
  {
    name: 'every encoding, file',
    bytes: () => tableToIPC(everyTypeTable('file'), 'file'),
    encodings: EVERY_ENCODING,
  },
  {
    name: 'every encoding, LZ4 frames',
    bytes: () => writeCompressed(everyTypeTable('stream'), CompressionType.LZ4_FRAME, 'stream'),
    encodings: EVERY_ENCODING,
  },
  {
    name: 'every encoding, ZSTD',
    bytes: () => writeCompressed(everyTypeTable('file'), CompressionType.ZSTD, 'file'),
    encodings: EVERY_ENCODING,
  },
  { name: 'more shapes, exact', bytes: () => tableToIPC(moreTypesTable(), 'stream'), encodings: 'exact' },
  {
    name: 'run-end encoded, ZSTD',
    bytes: () => runEndIpc(runEnd.ree, runEnd.paths, 'stream', { compression: CompressionType.ZSTD }),
  },
  { name: 'dictionary deltas', bytes: () => tableToIPC(deltaTable(), 'stream'), chunkSize: 100 },
  // Prefixes over 4 KiB cross to the workers in buffers of their own, smaller ones as numbers.
  { name: 'a wide table', bytes: wideTable, chunkSize: 4096 },
  {
    name: 'many batches across network chunks',
    bytes: () =>
      encodeDataset({
        rows: 20_011,
        batchRows: 997,
        format: 'stream',
        columns: { x: 'f32', y: 'f64', id: 'i32', kind: 'u16', small: 'i8', flag: 'bool', label: 'utf8' },
        nulls: { y: 0.25, small: 0.5, flag: 0.1 },
      }),
    chunkSize: 3000,
  },
  {
    // Each body a view of the one chunk: copied into a pooled buffer to cross, reused batch after batch
    // while other batches' words still lie in theirs.
    name: 'many batches in one chunk',
    bytes: () =>
      encodeDataset({
        rows: 24_000,
        batchRows: 301,
        format: 'stream',
        columns: { x: 'f32', y: 'f64', id: 'i32', kind: 'u16', label: 'dict-utf8' },
        nulls: { y: 0.25 },
      }),
  },
  {
    // Every column goes up as words made on the worker.
    name: 'numbers with nulls',
    bytes: () =>
      encodeDataset({
        rows: 12_007,
        batchRows: 997,
        format: 'stream',
        columns: { x: 'f32', y: 'f64', id: 'i32', small: 'i8', flag: 'bool' },
        nulls: { x: 0.1, y: 0.25, small: 0.5, flag: 0.2 },
      }),
    chunkSize: 5000,
  },
  {
    name: 'many batches in Node Buffers',
    bytes: () =>
      encodeDataset({
        rows: 9001,
        batchRows: 500,
        format: 'file',
        columns: { x: 'f32', id: 'i64', n: 'u8' },
      }),
    chunkSize: 1000,
    nodeBuffers: true,
  },
];

/** `bytes` in pieces of `size` bytes, each copied into a Node `Buffer` (from Node's shared slab when small). */
async function* nodeBuffers(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield Buffer.from(bytes.subarray(at, at + size));
}

interface Image {
  numRows: number;
  columns: Map<string, ColumnImage & { extras: string; dictionary: string }>;
  /** `stats.decodeWorkers`: how many decode workers the batches went to (0: this thread). */
  decodeWorkers: number;
}

/**
 * Loads `bytes` with `workers` decode workers (0: on this thread) and reads every column back; `more`
 * adds to the load's input or overrides it.
 */
async function loadImage(
  context: GpuContext,
  test: Case,
  bytes: Uint8Array,
  workers: number,
  more: Partial<PipelineInput> = {},
): Promise<Image> {
  const size = test.chunkSize ?? bytes.byteLength;
  const source = test.nodeBuffers ? nodeBuffers(bytes, size) : streamed(bytes, size);
  const table = await runPipeline(input(context, bytes, source, test.encodings, workers, more));
  try {
    const images = await readColumns(context.device, context.tracker, table.numRows, table.columns);
    const columns = new Map(
      table.columns.map((column) => {
        const encoder = column.encoder as { values?: () => unknown[] } | null;
        const dictionary = JSON.stringify(encoder?.values?.() ?? null, (_, v) =>
          typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v,
        );
        const image = images.get(column.plan.name) as ColumnImage;
        return [column.plan.name, { ...image, extras: JSON.stringify(column.extras), dictionary }];
      }),
    );
    return { numRows: table.numRows, columns, decodeWorkers: table.stats.decodeWorkers };
  } finally {
    destroyColumns(context.tracker, table.columns);
  }
}

/** A staging load of `bytes` from `source` on `workers` of the file's pool; `more` adds or overrides. */
function input(
  context: GpuContext,
  bytes: Uint8Array,
  source: AsyncIterable<Uint8Array>,
  encodings: EncodingRequest | undefined,
  workers: number,
  more: Partial<PipelineInput> = {},
): PipelineInput {
  const { byteLength } = bytes;
  const base = { gpu: context, source, readTail: tailOf(bytes), url: URL, bytesTotal: byteLength };
  return { ...base, encodings, upload: 'staging', decode: { pool, workers }, ...more };
}

/** 40,000 rows in 80 batches, delivered in 40 pieces 5 ms apart; `onChunk` runs before each piece. */
function slowLoad(onChunk: (chunk: number) => void) {
  const columns = { x: 'f32', y: 'f64' } as const;
  const bytes = encodeDataset({ rows: 40_000, batchRows: 500, format: 'stream', columns });
  return { bytes, ...trickle(bytes, { chunkSize: Math.ceil(bytes.byteLength / 40), delayMs: 5, onChunk }) };
}

/** A pool of its own whose worker threads the test can reach (to end one as a crash would). */
function threadPool(readsBodies: boolean): { threads: Worker[]; pool: DecodePool } {
  const threads: Worker[] = [];
  const spawn = () => {
    const thread = startTsxDecodeWorker();
    threads.push(thread);
    return nodeDecodeWorker(thread);
  };
  return { threads, pool: new DecodePool(spawn, readsBodies) };
}

/** Where two images differ, column by column; empty when identical. */
function differences(actual: Image, expected: Image): string[] {
  const out: string[] = [];
  if (actual.numRows !== expected.numRows) out.push(`rows ${actual.numRows} vs ${expected.numRows}`);
  for (const [name, want] of expected.columns) {
    const got = actual.columns.get(name);
    if (!got) {
      out.push(`${name}: missing`);
      continue;
    }
    if (!sameBytes(got.values, want.values)) out.push(`${name}: values differ`);
    if (!sameBytes(got.validity, want.validity)) out.push(`${name}: validity differs`);
    if (got.nullCount !== want.nullCount)
      out.push(`${name}: null count ${got.nullCount} vs ${want.nullCount}`);
    if (got.extras !== want.extras) out.push(`${name}: extras ${got.extras} vs ${want.extras}`);
    if (got.dictionary !== want.dictionary) out.push(`${name}: dictionary differs`);
  }
  return out;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

describe('decode pool: identical to decoding on the loader thread', () => {
  it('the delta case has dictionary deltas', () => {
    expect(deltaMessages(tableToIPC(deltaTable(), 'stream'))).toBeGreaterThanOrEqual(3);
  });

  it('the wide case’s record batch metadata is over 4 KiB', () => {
    const [first] = batchMessages(wideTable());
    expect(first && first.bodyAt - first.at - 8).toBeGreaterThan(4096);
  });

  for (const test of CASES) {
    it(`${test.name}: 1, 2 and 4 decode workers load the same bytes as the loader thread`, async () => {
      await withContext(async (context) => {
        const bytes = test.bytes();
        const reference = await loadImage(context, test, bytes, 0);
        expect(reference.numRows).toBeGreaterThan(0);
        for (const workers of WORKER_COUNTS) {
          const image = await loadImage(context, test, bytes, workers);
          expect(differences(image, reference), `${workers} decode workers`).toEqual([]);
        }
        expect(pool.idle, 'workers handed back to the pool').toBe(4);
      });
    });
  }

  it('a corrupt batch fails as it does on the loader thread, naming the same batch', async () => {
    await withContext(async (context) => {
      const table = everyTypeTable('stream', [50, 60, 70, 80, 90, 100, 110, 120]);
      const corrupt = writeCompressed(table, CompressionType.ZSTD, 'stream');
      // Batch 6's first compressed buffer declares 1 MiB: more than its rows can hold, found when it is decompressed.
      const message = batchMessages(corrupt).filter((m) => m.kind === MessageKind.RecordBatch)[6];
      const at = (message ? prefixOffsets(message) : []).find((offset) => offset !== null);
      if (at === undefined || at === null) throw new Error('no compressed buffer in batch 6');
      new DataView(corrupt.buffer, corrupt.byteOffset).setBigInt64(at, BigInt(1 << 20), true);
      const failures: ArrowGpuError[] = [];
      for (const workers of [0, 4]) {
        const load = runPipeline(input(context, corrupt, whole(corrupt), EVERY_ENCODING, workers));
        const error = await rejectionOf(load);
        failures.push(error);
      }
      const [here, pooled] = failures as [ArrowGpuError, ArrowGpuError];
      expect(here.code, here.message).toBe('CORRUPT');
      expect(here.details.batch).toBe(6);
      expect(pooled.code).toBe(here.code);
      expect(pooled.details.batch).toBe(here.details.batch);
      expect(pooled.message).toBe(here.message);
      expect(pool.idle).toBe(4);
    });
  });
});

/** Bytes of the first record batch's body in IPC `bytes`. */
function firstBatchBody(bytes: Uint8Array): number {
  const first = batchMessages(bytes).find((m) => m.kind === MessageKind.RecordBatch);
  if (!first) throw new Error('no record batch');
  return first.end - first.bodyAt;
}

describe('decode pool: by default, only for record batches worth sending out (minBatchBytes)', () => {
  const cases = CASES.filter((c) => /stream|delta|exact/.test(c.name));
  // A pool of two of its own: every worker it started is idle again after each load.
  const two = new DecodePool(tsxDecodeWorkers(2).spawn, true);
  afterAll(() => two.terminate());

  it('the cases include one whose dictionaries come before its first record batch', () => {
    expect(cases.some((c) => c.name.includes('delta'))).toBe(true);
  });

  for (const test of cases) {
    it(`${test.name}: a first record batch under the minimum decodes here, at it on the workers, bytes as on this thread`, async () => {
      await withContext(async (context) => {
        const bytes = test.bytes();
        const first = firstBatchBody(bytes);
        const reference = await loadImage(context, test, bytes, 0);
        expect(reference.decodeWorkers).toBe(0);
        const here = await loadImage(context, test, bytes, 2, {
          decode: { pool: two, workers: 2, minBatchBytes: first + 1 },
        });
        expect(here.decodeWorkers, 'a first batch one byte short of the minimum').toBe(0);
        expect(differences(here, reference)).toEqual([]);
        const pooled = await loadImage(context, test, bytes, 2, {
          decode: { pool: two, workers: 2, minBatchBytes: first },
        });
        expect(pooled.decodeWorkers, 'a first batch of exactly the minimum').toBe(2);
        expect(differences(pooled, reference)).toEqual([]);
        expect(two.idle, 'workers handed back to the pool').toBe(2);
      });
    });
  }

  it('a stream with no record batch loads no rows on this thread', async () => {
    await withContext(async (context) => {
      const full = tableToIPC(everyTypeTable('stream', [5]), 'stream');
      const schemaOnly = full.subarray(0, batchMessages(full)[0]?.at ?? 0);
      const table = await runPipeline(
        input(context, schemaOnly, whole(schemaOnly), EVERY_ENCODING, 2, {
          decode: { pool: two, workers: 2, minBatchBytes: 1 },
        }),
      );
      expect(table.numRows).toBe(0);
      expect(table.stats.decodeWorkers).toBe(0);
      destroyColumns(context.tracker, table.columns);
    });
  });
});

/**
 * Bytes of the record batch bodies in IPC `bytes` (stream, or file) that the framer can skip: all but
 * a first message's, in a file whose schema is only in its footer (read once that body is).
 */
function skippableBodyBytes(bytes: Uint8Array): number {
  const reader = new MessageReader(bytes[0] === 0x41 ? bytes.subarray(8) : bytes);
  let total = 0;
  let first = true;
  for (const message of reader) {
    if (message.isRecordBatch() && !first) total += message.bodyLength;
    first = false;
    reader.readMessageBody(message.bodyLength);
  }
  return total;
}

describe('decode pool: bodies the workers read from the file themselves', () => {
  for (const test of CASES) {
    const compressed = /LZ4|ZSTD/.test(test.name);
    const what = compressed ? 'compressed bodies are read by the loader' : 'the workers read every body';
    it(`${test.name}: 2 and 4 workers load a file as the loader thread does, with and without words read into staging; ${what}`, async () => {
      await withContext(async (context) => {
        const bytes = test.bytes();
        const reference = await loadImage(context, test, bytes, 0);
        for (const [workers, intoStaging] of [
          [2, false],
          [4, false],
          [2, true],
          [4, true],
        ] as const) {
          const dir = await mkdtemp(join(tmpdir(), 'pool-file-'));
          const request = new AbortController();
          const source = await (async () => {
            const path = join(dir, 'data.arrow');
            await writeFile(path, bytes);
            return nodeFileSource(path, request.signal);
          })();
          try {
            const more = {
              ...{ readTail: source.readTail, bodyFile: source.bodyFile, minDeferredBodyBytes: 0 },
              closeSource: () => request.abort(), // as a loader closes it once the messages are read
              ...(intoStaging ? { readAt: source.readAt, minSourceWordsBytes: 0 } : {}),
            };
            const table = await runPipeline(
              input(context, bytes, source.body, test.encodings, workers, more),
            );
            const images = await readColumns(context.device, context.tracker, table.numRows, table.columns);
            const expected = compressed ? 0 : skippableBodyBytes(bytes);
            const label = `${workers} workers${intoStaging ? ', words read into staging' : ''}`;
            expect(table.stats.bytesReadByWorkers, label).toBe(expected);
            if (!intoStaging || compressed) expect(table.stats.bytesReadIntoStaging, label).toBe(0);
            expect(table.numRows).toBe(reference.numRows);
            for (const [name, want] of reference.columns) {
              const got = images.get(name);
              expect(got && sameBytes(got.values, want.values), `${name} values, ${label}`).toBe(true);
              expect(got && sameBytes(got.validity, want.validity), `${name} validity, ${label}`).toBe(true);
              expect(got?.nullCount, `${name} nulls, ${label}`).toBe(want.nullCount);
            }
            destroyColumns(context.tracker, table.columns);
          } finally {
            source.closeReads?.();
            await rm(dir, { recursive: true, force: true });
          }
        }
        expect(pool.idle, 'workers handed back to the pool').toBe(4);
      });
    });
  }
});

describe('decode pool: failures while workers read the bodies', () => {
  /** 80 batches of `columns` written to a file, opened as a source whose bodies the workers read. */
  async function fileLoad(dir: string) {
    const columns = { x: 'f32', y: 'f64' } as const;
    const bytes = encodeDataset({ rows: 40_000, batchRows: 500, format: 'stream', columns });
    const path = join(dir, 'data.arrow');
    await writeFile(path, bytes);
    const request = new AbortController();
    const source = await nodeFileSource(path, request.signal);
    return {
      bytes,
      source,
      more: {
        ...{ readTail: source.readTail, bodyFile: source.bodyFile, minDeferredBodyBytes: 0 },
        closeSource: () => request.abort(), // as a loader closes it, when its messages end or it fails
      },
    };
  }

  it('a load cancelled midway stops its workers, hands them back and leaves nothing behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pool-file-'));
    try {
      await withContext(async (context) => {
        const controller = new AbortController();
        const { bytes, source, more } = await fileLoad(dir);
        let updates = 0;
        const onUpdate = () => {
          if (++updates === 2) controller.abort();
        };
        const load = runPipeline(
          input(context, bytes, source.body, undefined, 4, { ...more, signal: controller.signal, onUpdate }),
        );
        const error = await rejectionOf(load);
        expect(error.code, error.message).toBe('ABORTED');
        expect(updates).toBeGreaterThanOrEqual(2);
        expect(pool.idle).toBe(4);
        // withContext then checks that every GPU buffer of the load was destroyed.
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a file changed since the load opened it fails with NETWORK naming a body offset; workers that cannot read bodies get them sent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pool-file-'));
    try {
      await withContext(async (context) => {
        const { bytes, source, more } = await fileLoad(dir);
        const changed = { ...more, bodyFile: { ...(more.bodyFile as BodyFileSpec), stamp: '0:0:0:0' } };
        const error = await rejectionOf(
          runPipeline(input(context, bytes, source.body, undefined, 2, changed)),
        );
        expect(error.code, error.message).toBe('NETWORK');
        expect(error.message).toMatch(/could not be read at byte \d+: .*changed since the load opened it/);
        expect(error.details.byteOffset).toBeGreaterThan(0);
        expect(pool.idle).toBe(4);
        // A pool whose workers cannot read bodies is sent every body, whatever the source offers.
        const plain = new DecodePool(tsxDecodeWorkers(2).spawn, false);
        try {
          const again = await fileLoad(dir);
          const table = await runPipeline({
            ...input(context, again.bytes, again.source.body, undefined, 2, again.more),
            decode: { pool: plain, workers: 2 },
          });
          expect(table.numRows).toBe(40_000);
          expect(table.stats.bytesReadByWorkers).toBe(0);
          destroyColumns(context.tracker, table.columns);
        } finally {
          plain.terminate();
        }
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a decode worker that dies while reading bodies fails the load with WORKER_FAILED; the loader goes on', async () => {
    const { threads, pool: dying } = threadPool(true);
    const dir = await mkdtemp(join(tmpdir(), 'pool-file-'));
    try {
      await withContext(async (context) => {
        const { bytes, source, more } = await fileLoad(dir);
        const onUpdate = () => void threads[1]?.terminate();
        const load = runPipeline({
          ...input(context, bytes, source.body, undefined, 3, { ...more, onUpdate }),
          decode: { pool: dying, workers: 3 },
        });
        const error = await rejectionOf(load);
        expect(error.code, error.message).toBe('WORKER_FAILED');
        expect(error.message).toMatch(/decode worker died at batch \d+/);
      });
      expect(dying.idle, 'the live workers handed back, the dead one not').toBe(2);
      await withContext(async (context) => {
        const { bytes, source, more } = await fileLoad(dir);
        const table = await runPipeline({
          ...input(context, bytes, source.body, undefined, 3, more),
          decode: { pool: dying, workers: 3 },
        });
        expect(table.numRows).toBe(40_000);
        expect(table.stats.bytesReadByWorkers).toBe(skippableBodyBytes(bytes));
        destroyColumns(context.tracker, table.columns);
      });
    } finally {
      dying.terminate();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('decode pool: words read from the file straight into staging', () => {
  /** f32 and i32 go up as the file's own bytes, f64 and u16 are converted: 8 of each row's 18 bytes. */
  const columns = { x: 'f32', y: 'f64', id: 'i32', kind: 'u16' } as const;
  const ROWS = 40_000;

  /** What a read through `countedReads` does: fail, come back short, or wait this many ms first. */
  type Outcome = 'throw' | 'short' | number | null;

  /** Reads through `source.readAt`, counting the reads under way; `fail` may change a read's outcome. */
  function countedReads(source: ByteSource, fail?: (call: number) => Outcome) {
    const state = { calls: 0, underWay: 0, maxUnderWay: 0 };
    const readAt = async (target: Uint8Array, position: number) => {
      const call = ++state.calls;
      state.underWay++;
      state.maxUnderWay = Math.max(state.maxUnderWay, state.underWay);
      try {
        const outcome = fail?.(call) ?? null;
        if (typeof outcome === 'number') await new Promise((resolve) => setTimeout(resolve, outcome));
        const got = await (source.readAt as NonNullable<ByteSource['readAt']>)(target, position);
        if (outcome === 'throw') throw new Error('EIO: i/o error');
        return outcome === 'short' ? Math.floor(got / 2) : got;
      } finally {
        state.underWay--;
      }
    };
    return { state, readAt };
  }

  /** A load of the 80-batch file (y a quarter null) with words read into staging (any size) through `readAt`. */
  async function stagingLoad(
    context: GpuContext,
    dir: string,
    fail?: (call: number) => Outcome,
    more: Partial<PipelineInput> = {},
  ) {
    const nulls = { y: 0.25 };
    const bytes = encodeDataset({ rows: ROWS, batchRows: 500, format: 'stream', columns, nulls });
    const path = join(dir, 'data.arrow');
    await writeFile(path, bytes);
    // Closed as a loader closes it: once the messages are read, or the load failed.
    const request = new AbortController();
    const source = await nodeFileSource(path, request.signal);
    const reads = countedReads(source, fail);
    const options = {
      ...{ readTail: source.readTail, bodyFile: source.bodyFile, minDeferredBodyBytes: 0 },
      closeSource: () => request.abort(),
      ...{ readAt: reads.readAt, minSourceWordsBytes: 0, ...more },
    };
    const load = runPipeline(input(context, bytes, source.body, undefined, 4, options));
    return { bytes, source, reads, load };
  }

  /** Reads `table` back (then destroys it) and compares every column with `bytes` decoded on this thread. */
  async function expectAsOnLoaderThread(context: GpuContext, bytes: Uint8Array, table: LoadedTable) {
    const images = await readColumns(context.device, context.tracker, table.numRows, table.columns);
    destroyColumns(context.tracker, table.columns);
    const reference = await loadImage(context, { name: 'reference', bytes: () => bytes }, bytes, 0);
    for (const [name, want] of reference.columns) {
      expect(sameBytes(images.get(name)?.values ?? null, want.values), `${name} values`).toBe(true);
      expect(sameBytes(images.get(name)?.validity ?? null, want.validity), `${name} validity`).toBe(true);
    }
  }

  async function inDir(run: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'pool-staging-'));
    try {
      await run(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('f32 and i32 words are read into staging, byte for byte what the loader thread uploads', async () => {
    await inDir((dir) =>
      withContext(async (context) => {
        const { bytes, source, reads, load } = await stagingLoad(context, dir);
        const table = await load;
        source.closeReads?.();
        expect(table.numRows).toBe(ROWS);
        expect(table.stats.bytesReadIntoStaging, 'x and id, 4 bytes a row each').toBe(ROWS * 8);
        expect(reads.state.calls, 'one read per column per batch at least').toBeGreaterThanOrEqual(160);
        await expectAsOnLoaderThread(context, bytes, table);
        // Words smaller than the default least size stay with the workers' results.
        const again = await stagingLoad(context, dir, undefined, { minSourceWordsBytes: undefined });
        const small = await again.load;
        again.source.closeReads?.();
        expect(small.stats.bytesReadIntoStaging).toBe(0);
        destroyColumns(context.tracker, small.columns);
      }),
    );
  });

  it('staging buffers land in the order they were filled, whichever reads finish first', async () => {
    await inDir((dir) =>
      withContext(async (context) => {
        // The later a read, the sooner it is done: a later staging buffer's reads are in before an earlier
        // one's. Batches of 500 rows end mid-word, so the validity word at each edge is written twice,
        // and only the later write is right.
        const delay = (call: number) => (call > 60 ? Math.max(0, 200 - call) : null);
        const { bytes, source, load } = await stagingLoad(context, dir, delay);
        const table = await load;
        source.closeReads?.();
        await expectAsOnLoaderThread(context, bytes, table);
      }),
    );
  });

  it('a read that fails is NETWORK at its byte offset, one cut short TRUNCATED; nothing is left behind and the next load runs', async () => {
    await inDir((dir) =>
      withContext(async (context) => {
        for (const outcome of ['throw', 'short'] as const) {
          const { source, reads, load } = await stagingLoad(context, dir, (call) =>
            call === 30 ? outcome : null,
          );
          const error = await rejectionOf(load);
          source.closeReads?.();
          expect(error.code, error.message).toBe(outcome === 'throw' ? 'NETWORK' : 'TRUNCATED');
          expect(error.details.byteOffset).toBeGreaterThan(0);
          expect(error.message).toMatch(
            outcome === 'throw'
              ? /could not be read at byte \d+: .*EIO/
              : /ends early: .* at byte offset \d+/,
          );
          expect(reads.state.underWay, 'no read still writing into staging memory').toBe(0);
          expect(pool.idle).toBe(4);
        }
        const { source, load } = await stagingLoad(context, dir);
        const table = await load;
        source.closeReads?.();
        expect(table.numRows).toBe(ROWS);
        destroyColumns(context.tracker, table.columns);
        // withContext then checks that every GPU buffer of the failed loads was destroyed.
      }),
    );
  });

  it('a load cancelled while reads are under way waits for them before it rejects; nothing is left behind', async () => {
    await inDir((dir) =>
      withContext(async (context) => {
        const controller = new AbortController();
        let updates = 0;
        const onUpdate = () => {
          if (++updates === 3) controller.abort();
        };
        const more = { signal: controller.signal, onUpdate };
        const { source, reads, load } = await stagingLoad(context, dir, undefined, more);
        const error = await rejectionOf(load);
        source.closeReads?.();
        expect(error.code, error.message).toBe('ABORTED');
        expect(reads.state.calls).toBeGreaterThan(0);
        expect(reads.state.underWay, 'no read still writing into staging memory').toBe(0);
        expect(pool.idle).toBe(4);
      }),
    );
  });
});

describe('decode pool: bodies from a read worker, each large one in a chunk of its own', () => {
  // The read worker hands large bodies over whole, on buffers nothing else holds: the loader moves them
  // to the decode workers instead of copying them, and takes them back into its pool afterwards. Each
  // load must read back as the same bytes loaded from a plain stream on this thread.
  const bytes = encodeDataset({
    rows: 400_000,
    batchRows: 100_003,
    format: 'stream',
    columns: { x: 'f32', y: 'f64', id: 'i32', flag: 'bool' },
    nulls: { y: 0.25 },
  });
  const test: Case = { name: 'large batches', bytes: () => bytes, chunkSize: 70_000 };

  it('0, 2 and 4 decode workers load the same bytes as a plain stream on this thread', async () => {
    await withContext(async (context) => {
      const reference = await loadImage(context, test, bytes, 0);
      expect(reference.numRows).toBe(400_000);
      const worker = channelReadWorker(
        async () => ({ body: streamed(bytes, 70_000), bytesTotal: bytes.byteLength }),
        () => new BodyCuts(),
      );
      const client = new ReadWorkerClient(worker.spawn);
      try {
        for (const workers of [0, 2, 4]) {
          const source = await client.open(URL, new AbortController().signal, {});
          const image = await loadImage(context, test, bytes, workers, { source: source.body });
          expect(differences(image, reference), `${workers} decode workers`).toEqual([]);
          expect(image.decodeWorkers).toBe(workers);
        }
      } finally {
        client.terminate();
      }
      expect(pool.idle, 'workers handed back to the pool').toBe(4);
    });
  });
});

describe('decode pool: failures', () => {
  it('a decode worker that dies fails the load with WORKER_FAILED naming a batch; nothing is left behind', async () => {
    const { threads, pool: dying } = threadPool(false);
    try {
      await withContext(async (context) => {
        let closed = false;
        // Halfway through the bytes, one worker thread goes as a crashed one would.
        const { bytes, ...slow } = slowLoad((chunk) => {
          if (chunk === 20) void threads[1]?.terminate();
        });
        const load = runPipeline({
          ...input(context, bytes, slow.source, undefined, 3),
          decode: { pool: dying, workers: 3 },
          closeSource: () => {
            closed = true;
          },
        });
        const error = await rejectionOf(load);
        expect(error.code, error.message).toBe('WORKER_FAILED');
        expect(error.message).toMatch(/decode worker died at batch \d+ of test:\/\/decode-pool/);
        expect(closed, 'the request closed').toBe(true);
        await until(() => slow.state.closed, 'the source to be closed');
        // withContext then checks that every GPU buffer of the load was destroyed.
      });
      expect(dying.idle, 'the live workers handed back, the dead one not').toBe(2);
      // The loader stays usable: the next load takes the two workers left and a new one.
      await withContext(async (context) => {
        const test = CASES[0] as Case;
        const bytes = test.bytes();
        const table = await runPipeline({
          ...input(context, bytes, whole(bytes), test.encodings, 3),
          decode: { pool: dying, workers: 3 },
        });
        expect(table.numRows).toBe(207);
        destroyColumns(context.tracker, table.columns);
      });
      expect(threads.length).toBe(4);
    } finally {
      dying.terminate();
    }
  });

  it('a cancelled load stops its pool work and hands the workers back', async () => {
    await withContext(async (context) => {
      const controller = new AbortController();
      const { bytes, ...slow } = slowLoad((chunk) => {
        if (chunk === 15) controller.abort();
      });
      const error = await rejectionOf(
        runPipeline(input(context, bytes, slow.source, undefined, 4, { signal: controller.signal })),
      );
      expect(error.code).toBe('ABORTED');
      await until(() => slow.state.closed, 'the source to be closed');
      expect(pool.idle).toBe(4);
      // The same workers load the next table whole.
      const test = CASES[0] as Case;
      const again = test.bytes();
      const table: LoadedTable = await runPipeline(input(context, again, whole(again), test.encodings, 4));
      expect(table.numRows).toBe(207);
      destroyColumns(context.tracker, table.columns);
    });
  });
});
