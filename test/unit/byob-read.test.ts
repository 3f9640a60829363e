import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetworkError } from '../../src/core/errors.js';
import { type FramedMessage, IpcFramer } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { PushBackReader } from '../../src/core/ipc/push-back-reader.js';
import type { ByobBody } from '../../src/core/source/byob.js';
import { BytePool } from '../../src/core/source/byte-pool.js';
import { ReadAhead } from '../../src/core/source/read-ahead.js';
import { readStream } from '../../src/core/source/stream-source.js';
import { nodeFileSource } from '../../workers/node-file-source.js';
import { byteStream, encodeDataset, whole } from '../support/byte-sources.js';

/** What a memory BYOB source did: reads into given buffers, chunks handed out, and whether it was closed. */
interface Seen {
  intoReads: number;
  chunks: number;
  closed: boolean;
}

/**
 * `bytes` as a BYOB source whose reads return at most the next of `sizes` bytes (short reads), that may
 * fail once `failAt` bytes were read, and that moves each read to a new buffer as a byte stream does
 * (`transfer`). `gate`, when given, holds each read into a given buffer until it resolves.
 */
function memoryByob(
  bytes: Uint8Array,
  sizes: readonly number[],
  options: { failAt?: number; transfer?: boolean; gate?: () => Promise<void> } = {},
): ByobBody & { seen: Seen } {
  const seen: Seen = { intoReads: 0, chunks: 0, closed: false };
  let at = 0;
  let turn = 0;
  const readInto = async (target: Uint8Array): Promise<Uint8Array> => {
    await Promise.resolve();
    if (seen.closed) return target.subarray(0, 0);
    const size = Math.max(1, sizes[turn++ % sizes.length] as number);
    const n = Math.min(size, target.byteLength, bytes.byteLength - at);
    if (options.failAt !== undefined && at + n > options.failAt) {
      throw new NetworkError(`reset after ${options.failAt} bytes`, {
        url: 'mem',
        byteOffset: options.failAt,
      });
    }
    target.set(bytes.subarray(at, at + n));
    at += n;
    if (!options.transfer) return target.subarray(0, n);
    const moved = new Uint8Array(target.buffer.byteLength);
    moved.set(new Uint8Array(target.buffer as ArrayBuffer));
    return new Uint8Array(moved.buffer, target.byteOffset, n);
  };
  return {
    seen,
    readInto: async (target) => {
      seen.intoReads++;
      await options.gate?.();
      return readInto(target);
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const chunk = await readInto(new Uint8Array(4096));
          if (chunk.byteLength === 0) return;
          seen.chunks++;
          yield chunk;
        }
      } finally {
        seen.closed = true;
      }
    },
  };
}

/** Every message of `source` framed with `pool`, bodies copied out and released as a decoder would. */
async function frame(source: AsyncIterable<Uint8Array>, pool: BytePool | null) {
  const framer = new IpcFramer(source, 'mem');
  framer.pool = pool;
  const out: { kind: number; offset: number; body: string; pooled: boolean }[] = [];
  for await (const message of framer as AsyncIterable<FramedMessage>) {
    const { kind } = message.header;
    const body = `${message.body.byteLength}:${createHash('sha256').update(message.body).digest('hex')}`;
    out.push({ kind, offset: message.byteOffset, body, pooled: !!message.pooled });
    if (message.pooled) pool?.release(message.body);
  }
  return out;
}

const dataset = (batchRows: number) =>
  encodeDataset({ rows: 8 * batchRows, batchRows, format: 'stream', columns: { a: 'f64', b: 'i32' } });

/** Runs `use` on `bytes` written to a file of a temporary folder, removed afterwards. */
async function withFile(bytes: Uint8Array, use: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'byob-'));
  try {
    const path = join(dir, 'data.arrow');
    await writeFile(path, bytes);
    await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('bodies read into their pooled buffers (BYOB)', () => {
  it('frame the same messages as the bytes fed whole, whatever the read sizes, with no buffer left in use', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(50, 3000, 40000),
        fc.array(fc.integer({ min: 512, max: 1 << 18 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (batchRows, sizes, transfer) => {
          const bytes = dataset(batchRows);
          const expected = await frame(whole(bytes), null);
          const pool = new BytePool();
          const source = memoryByob(bytes, sizes, { transfer });
          const got = await frame(new ReadAhead(source, 1 << 20), pool);
          expect(got.map(({ pooled, ...rest }) => rest)).toEqual(expected.map(({ pooled, ...rest }) => rest));
          expect(pool.inUse).toBe(0);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('read a body that spans many short reads straight into its buffer, copying at most the read-ahead', async () => {
    const bytes = dataset(200_000); // bodies of about 2.4 MB, over the 1 MiB a BYOB read-ahead holds
    const source = memoryByob(bytes, [1000, 70_000, 333]);
    const ahead = new ReadAhead(source, 32 << 20);
    const got = await frame(ahead, new BytePool());
    const batches = got.filter((m) => m.kind === MessageKind.RecordBatch);
    expect(batches).toHaveLength(8);
    expect(batches.every((m) => m.pooled)).toBe(true);
    expect(source.seen.intoReads).toBeGreaterThan(8 * 10); // 2.4 MB in reads of at most 70 kB
    // Most body bytes went straight into their buffers; the rest came through the read-ahead.
    const bodyBytes = batches.reduce((sum, m) => sum + Number.parseInt(m.body, 10), 0);
    expect(ahead.directBytes).toBeGreaterThan(bodyBytes - 8 * (1 << 20));
    expect(ahead.received).toBe(bytes.byteLength);
  });

  it('fail a short body with TRUNCATED at the byte where it ends, with no buffer left in use', async () => {
    const bytes = dataset(200_000);
    const cut = bytes.byteLength - 5000;
    const pool = new BytePool();
    const error = await frame(new ReadAhead(memoryByob(bytes.slice(0, cut), [65_536]), 1 << 20), pool).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'TRUNCATED', details: { byteOffset: cut } });
    expect(pool.inUse).toBe(0);
  });

  it('fail with the source error mid-body (NETWORK at its byte offset), with no buffer left in use', async () => {
    const bytes = dataset(200_000);
    const failAt = Math.floor(bytes.byteLength / 2);
    const pool = new BytePool();
    const error = await frame(new ReadAhead(memoryByob(bytes, [100_000], { failAt }), 1 << 20), pool).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'NETWORK', details: { byteOffset: failAt } });
    expect(pool.inUse).toBe(0);
  });

  it('stop reading and close the source on a cancel mid-body', async () => {
    const bytes = dataset(200_000);
    let release: () => void = () => {};
    let held = 0;
    const gate = () => {
      held++;
      return held < 3 ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve));
    };
    const source = memoryByob(bytes, [50_000], { gate });
    const ahead = new ReadAhead(source, 1 << 20);
    const framer = new IpcFramer(ahead, 'mem');
    framer.pool = new BytePool();
    const framing = (async () => {
      for await (const _ of framer) {
        // framed
      }
    })();
    while (held < 3) await new Promise((resolve) => setTimeout(resolve, 1));
    await Promise.all([framer.cancel(), ahead.cancel()]);
    release();
    await framing.catch(() => {});
    expect(source.seen.closed).toBe(true);
    const reads = source.seen.intoReads;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(source.seen.intoReads).toBe(reads);
  });
});

describe('nodeFileSource', () => {
  it('frames a file as the same messages as its bytes, bodies read into pooled buffers, and closes on abort', async () => {
    const bytes = dataset(200_000);
    await withFile(bytes, async (path) => {
      const request = new AbortController();
      const source = await nodeFileSource(path, request.signal);
      try {
        expect(source.bytesTotal).toBe(bytes.byteLength);
        const ahead = new ReadAhead(source.body, 32 << 20);
        const got = await frame(ahead, new BytePool());
        expect(got.map(({ pooled, ...rest }) => rest)).toEqual(
          (await frame(whole(bytes), null)).map(({ pooled, ...rest }) => rest),
        );
        expect(ahead.directBytes).toBeGreaterThan(0);
        expect([...(await (source.readTail as (n: number) => Promise<Uint8Array>)(10))]).toEqual([
          ...bytes.subarray(bytes.byteLength - 10),
        ]);
        const controller = new AbortController();
        const aborted = await nodeFileSource(path, controller.signal);
        controller.abort();
        const after = await (aborted.body as ByobBody).readInto(new Uint8Array(16));
        expect(after.byteLength).toBe(0);
      } finally {
        request.abort(); // the framer stops at the end-of-stream marker: closed as a load closes it
      }
    });
  });
});

describe('nodeFileSource: bodies skipped for decode workers', () => {
  it('a framer that defers record batch bodies yields every message at its offsets, deferred bodies empty and unread', async () => {
    const bytes = dataset(50_000);
    await withFile(bytes, async (path) => {
      const request = new AbortController();
      const source = await nodeFileSource(path, request.signal);
      try {
        expect(source.bodyFile?.path).toBe(path);
        const ahead = new ReadAhead(source.body, 32 << 20);
        const framer = new IpcFramer(ahead, 'mem');
        framer.pool = new BytePool();
        framer.deferBody = () => true;
        const skipped: FramedMessage[] = [];
        for await (const message of framer as AsyncIterable<FramedMessage>) skipped.push(message);
        const reference: FramedMessage[] = [];
        for await (const message of new IpcFramer(whole(bytes), 'mem')) reference.push(message);
        expect(skipped.map((m) => [m.header.kind, m.byteOffset, m.bodyOffset, m.endOffset])).toEqual(
          reference.map((m) => [m.header.kind, m.byteOffset, m.bodyOffset, m.endOffset]),
        );
        const batches = reference.filter((m) => m.header.kind === MessageKind.RecordBatch);
        expect(batches.length).toBe(8);
        for (const message of skipped) {
          const isBatch = message.header.kind === MessageKind.RecordBatch;
          expect(message.deferred === true, `message at ${message.byteOffset}`).toBe(isBatch);
          if (isBatch) expect(message.body.byteLength).toBe(0);
        }
        const bodies = batches.reduce((n, m) => n + m.body.byteLength, 0);
        expect(framer.deferredBytes).toBe(bodies);
        // Header chunks are read, the bodies between them not: far fewer bytes than the file.
        expect(ahead.directBytes).toBe(0);
        expect(bytes.byteLength - bodies).toBeLessThan(bytes.byteLength / 10);
      } finally {
        request.abort(); // the framer stops at the end-of-stream marker: closed as a load closes it
      }
    });
  });

  it('a skip after the read-ahead failed throws the source error, not an early end', async () => {
    const failing: ByobBody & { skip(length: number): Promise<number> } = {
      async *[Symbol.asyncIterator]() {
        yield new Uint8Array(100);
        throw new NetworkError('EIO at byte 100', { url: 'mem', byteOffset: 100 });
      },
      readInto: async (target) => target.subarray(0, 0),
      skip: async (length) => length,
    };
    const ahead = new ReadAhead(failing, 32 << 20);
    const reader = new PushBackReader(ahead);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the pull fails meanwhile
    await expect(reader.trySkip(1000)).rejects.toThrow(/EIO at byte 100/);
  });

  it('skips within what was read ahead and past it, and stops at the end of the file', async () => {
    const bytes = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    await withFile(bytes, async (path) => {
      const ahead = new ReadAhead((await nodeFileSource(path)).body, 32 << 20);
      const reader = new PushBackReader(ahead);
      const at = async (offset: number, length: number) => {
        expect(reader.offset).toBe(offset);
        expect([...(await reader.read(length))]).toEqual([...bytes.subarray(offset, offset + length)]);
      };
      await at(0, 10);
      expect(await reader.trySkip(100)).toBe(100); // inside the chunk at hand
      await at(110, 10);
      expect(await reader.trySkip(2 << 20)).toBe(2 << 20); // past what was read ahead
      await at(120 + (2 << 20), 1000);
      const left = bytes.byteLength - reader.offset;
      expect(await reader.trySkip(left + 5)).toBe(left);
      expect((await reader.read(1)).byteLength).toBe(0);
      // A source that cannot skip says so, and nothing moves.
      const plain = new PushBackReader(whole(bytes));
      expect(await plain.trySkip(10)).toBe(false);
      expect([...(await plain.read(4))]).toEqual([...bytes.subarray(0, 4)]);
    });
  });
});

describe('readStream over a byte stream', () => {
  it('reads bodies into their pooled buffers (a default stream: joined), both framing the same messages', async () => {
    const bytes = dataset(200_000);
    const expected = (await frame(whole(bytes), null)).map(({ pooled, ...rest }) => rest);
    const signal = new AbortController().signal;
    const direct = new ReadAhead(readStream(byteStream(bytes, 100_000), 'bytes', signal), 32 << 20);
    const got = await frame(direct, new BytePool());
    expect(got.map(({ pooled, ...rest }) => rest)).toEqual(expected);
    expect(direct.byob).toBe(true);
    expect(direct.directBytes).toBeGreaterThan(bytes.byteLength / 2);
    const plain = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const joined = new ReadAhead(readStream(plain, 'plain', signal), 32 << 20);
    expect((await frame(joined, new BytePool())).map(({ pooled, ...rest }) => rest)).toEqual(expected);
    expect(joined.byob).toBe(false);
  });

  it('fails mid-body with NETWORK at the bytes received, with no buffer left in use', async () => {
    const bytes = dataset(200_000);
    const pool = new BytePool();
    const source = readStream(byteStream(bytes, 100_000, 1_500_000), 'broken', new AbortController().signal);
    const error = await frame(new ReadAhead(source, 32 << 20), pool).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK', details: { byteOffset: 1_500_000 } });
    expect(pool.inUse).toBe(0);
  });
});
