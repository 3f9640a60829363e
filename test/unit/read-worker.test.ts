import { Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpStatusError, NetworkError } from '../../src/core/errors.js';
import { BodyCuts, OWN_CHUNK_MIN_BYTES } from '../../src/core/ipc/body-cuts.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { FlatbufferView } from '../../src/core/ipc/flatbuffer-view.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { BytePool } from '../../src/core/source/byte-pool.js';
import { ByteReader } from '../../src/core/source/byte-reader.js';
import { isEndOfStreamMarker } from '../../src/core/source/end-of-stream-marker.js';
import { isOwnedWhole, markOwned } from '../../src/core/source/owned-buffers.js';
import { NO_CUTS } from '../../src/core/source/read-worker/chunk-cuts.js';
import { ChunkStock, newChunk, stockSize } from '../../src/core/source/read-worker/chunk-stock.js';
import {
  HostedRead,
  type PostToLoader,
  READ_CHUNK_BYTES,
} from '../../src/core/source/read-worker/hosted-read.js';
import {
  LOW_WATER_BYTES,
  PULL_BYTES,
  READ_WORKER_AHEAD_BYTES,
  ReadWorkerClient,
} from '../../src/core/source/read-worker/read-client.js';
import { releaseShared } from '../../src/core/source/shared-chunks.js';
import { readStream } from '../../src/core/source/stream-source.js';
import { chunked } from '../support/byte-sources.js';
import { concat } from '../support/ipc-bytes.js';
import { messageEnds } from '../support/ipc-groups.js';
import { toLegacyFraming } from '../support/legacy-ipc.js';
import { channelReadWorker as channelWorker } from '../support/read-worker.js';
import { cutAt } from '../support/web-streams.js';

// The read worker: a thread that fetches a URL and reads its response for the loader's thread, which
// gets the same bytes in the same order, in chunks, whatever the pace of either side; large message
// bodies each in a chunk of their own; failures typed, after the bytes that came before them; a cancel
// closes the request; a worker that dies fails its reads with WORKER_FAILED.

async function readAll(body: AsyncIterable<Uint8Array>, pause?: () => Promise<void>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) {
    chunks.push(chunk);
    if (pause) await pause();
  }
  return chunks;
}

const random = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 255);

/** A byte stream (read with a BYOB reader) of `chunks`, as a fetch body is. */
function byteStreamOf(chunks: readonly Uint8Array[], signal: AbortSignal, name = 'test') {
  let next = 0;
  const stream = new ReadableStream({
    type: 'bytes',
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk) return controller.enqueue(chunk.slice());
      controller.close();
      controller.byobRequest?.respond(0); // a pending BYOB read ends only so
    },
  });
  return readStream(stream, name, signal);
}

describe('read worker', () => {
  it('hands over every byte in order, whatever the chunk sizes and the pace of the reader', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 << 20 }),
        fc.array(fc.integer({ min: 1, max: 1 << 20 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        async (length, sizes, byob, pauseMs) => {
          const bytes = random(length, sizes.length);
          const worker = channelWorker(async (_url, signal) => ({
            body: byob ? byteStreamOf(cutAt(bytes, sizes), signal) : chunked(bytes, sizes),
            bytesTotal: length,
          }));
          const client = new ReadWorkerClient(worker.spawn);
          const source = await client.open('http://localhost/x', new AbortController().signal, {});
          expect(source.bytesTotal).toBe(length);
          const pause = pauseMs ? () => new Promise<void>((r) => setTimeout(r, pauseMs)) : undefined;
          const got = concat(await readAll(source.body, pause));
          expect(got.byteLength).toBe(length);
          expect(Buffer.compare(got, bytes)).toBe(0);
          expect(client.active).toBe(0);
          client.terminate();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('sends bytes as soon as they are read: a reader waiting for them is not held until the next ones', async () => {
    for (const byob of [true, false]) {
      const first = random(1000, 1);
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      async function* slow(): AsyncGenerator<Uint8Array<ArrayBuffer>> {
        yield first.slice();
        await gate; // the rest comes only once the first bytes were taken
        yield random(10, 2);
      }
      const worker = channelWorker(async (_url, signal) => {
        if (!byob) return { body: slow(), bytesTotal: null };
        const iterator = slow();
        const stream = new ReadableStream({
          type: 'bytes',
          async pull(controller) {
            const next = await iterator.next();
            if (!next.done) return controller.enqueue(next.value);
            controller.close();
            controller.byobRequest?.respond(0);
          },
        });
        return { body: readStream(stream, 'slow', signal), bytesTotal: null };
      });
      const client = new ReadWorkerClient(worker.spawn);
      const source = await client.open('http://localhost/slow', new AbortController().signal, {});
      const iterator = source.body[Symbol.asyncIterator]();
      const head = await iterator.next();
      expect(Buffer.compare(head.value as Uint8Array, first), `byob: ${byob}`).toBe(0);
      release();
      const rest = await readAll({ [Symbol.asyncIterator]: () => iterator });
      expect(concat(rest).byteLength).toBe(10);
      client.terminate();
    }
  });

  it('reads ahead of a reader that does not take its bytes by a bounded amount only', async () => {
    const state = { pulled: 0 };
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        state.pulled += 256 << 10;
        yield new Uint8Array(256 << 10);
      }
    }
    const worker = channelWorker(async () => ({ body: endless(), bytesTotal: null }));
    const client = new ReadWorkerClient(worker.spawn);
    const controller = new AbortController();
    const source = await client.open('http://localhost/endless', controller.signal, {});
    const iterator = source.body[Symbol.asyncIterator]();
    let taken = 0;
    for (let i = 0; i < 8; i++) taken += ((await iterator.next()).value as Uint8Array).byteLength;
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The worker's read-ahead and one read past it, and what this side holds: up to the low water before
    // it asks again, and a pull's whole chunks past that.
    const bound = READ_WORKER_AHEAD_BYTES + (1 << 20) + LOW_WATER_BYTES + PULL_BYTES + READ_CHUNK_BYTES;
    expect(state.pulled - taken).toBeGreaterThan(0);
    expect(state.pulled - taken).toBeLessThanOrEqual(bound);
    const before = state.pulled;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(state.pulled, 'nothing more read while nothing is taken').toBe(before);
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'ABORTED' });
    client.terminate();
  });

  it('a pull brings about pullBytes of the bytes held, in whole chunks and in order; the rest wait on the read worker', async () => {
    const sent: Uint8Array[][] = [];
    const post: PostToLoader = (message) => {
      if (message.type === 'chunks') sent.push(message.chunks);
    };
    const limits = { maxBytes: 32 << 20, pullBytes: 8 << 20 };
    const read = new HostedRead(1, post, limits, NO_CUTS);
    let n = 0;
    async function* counting(): AsyncGenerator<Uint8Array> {
      for (;;) yield new Uint8Array(1 << 20).fill(n++ & 255);
    }
    const running = read.run(async () => ({ body: counting(), bytesTotal: null }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent.length, 'the first bytes, as soon as read (the open asks for them)').toBe(1);
    const bytesOf = (chunks: Uint8Array[]) => chunks.reduce((sum, c) => sum + c.byteLength, 0);
    for (let pull = 0; pull < 4; pull++) {
      read.pull(false, sent.length);
      const chunks = sent.at(-1) as Uint8Array[];
      expect(bytesOf(chunks)).toBeGreaterThanOrEqual(limits.pullBytes);
      expect(bytesOf(chunks)).toBeLessThan(limits.pullBytes + READ_CHUNK_BYTES);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Every byte in order: each MiB read is filled with its number.
    const got = concat(sent.flat());
    for (let mib = 0; mib < got.byteLength >> 20; mib++) expect(got[mib << 20], `MiB ${mib}`).toBe(mib & 255);
    read.cancel();
    await running;
  });

  it('once the body is read to its end, the rest still goes a pull at a time, the last saying so', async () => {
    const sent: Array<{ bytes: number; end: boolean }> = [];
    const got: Uint8Array[] = [];
    const post: PostToLoader = (message) => {
      if (message.type !== 'chunks') return;
      sent.push({ bytes: message.chunks.reduce((sum, c) => sum + c.byteLength, 0), end: message.end });
      got.push(...message.chunks);
    };
    const limits = { maxBytes: 32 << 20, pullBytes: 4 << 20 };
    const read = new HostedRead(1, post, limits, NO_CUTS);
    const bytes = new Uint8Array(20 << 20);
    for (let i = 0; i < bytes.byteLength; i += 4096) bytes[i] = (i >> 12) & 255;
    const body = async function* () {
      for (let at = 0; at < bytes.byteLength; at += 1 << 20) yield bytes.slice(at, at + (1 << 20));
    };
    let finished = false;
    const running = read.run(async () => ({ body: body(), bytesTotal: bytes.byteLength }));
    void running.then(() => {
      finished = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent.length, 'the first bytes, which the open asks for; the rest waits').toBe(1);
    while (!(sent.at(-1) as { end: boolean }).end) {
      expect(finished, 'the read lasts until its last bytes went').toBe(false);
      read.pull(false, sent.length);
      expect((sent.at(-1) as { bytes: number }).bytes).toBeLessThan(limits.pullBytes + READ_CHUNK_BYTES);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await running;
    expect(Buffer.compare(concat(got), bytes)).toBe(0);
  });

  it('a failed request is its typed error; a failure mid-body comes after the bytes before it', async () => {
    const worker = channelWorker(async (url) => {
      if (url.endsWith('/missing'))
        throw new HttpStatusError(`GET ${url} answered HTTP 404`, { url, status: 404 });
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield random(5000, 3);
        throw new NetworkError(`${url} failed after 5000 bytes`, { url, byteOffset: 5000 });
      }
      return { body: broken(), bytesTotal: 10_000 };
    });
    const client = new ReadWorkerClient(worker.spawn);
    const signal = new AbortController().signal;
    await expect(client.open('http://localhost/missing', signal, {})).rejects.toMatchObject({
      code: 'HTTP_STATUS',
      details: { status: 404, url: 'http://localhost/missing' },
    });
    const source = await client.open('http://localhost/broken', signal, {});
    const got: Uint8Array[] = [];
    const error = await (async () => {
      try {
        for await (const chunk of source.body) got.push(chunk);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(concat(got).byteLength).toBe(5000);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'NETWORK', details: { byteOffset: 5000 } });
    expect(client.active).toBe(0);
    client.terminate();
  });

  it('a cancel closes the request on the worker; the body fails with ABORTED', async () => {
    async function* hanging(): AsyncGenerator<Uint8Array> {
      yield random(100, 4);
      await new Promise(() => {});
    }
    const worker = channelWorker(async () => ({ body: hanging(), bytesTotal: null }));
    const client = new ReadWorkerClient(worker.spawn);
    const controller = new AbortController();
    const source = await client.open('http://localhost/hang', controller.signal, {});
    const iterator = source.body[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'ABORTED' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(worker.state.signals[0]?.aborted, 'the request was closed on the worker').toBe(true);
    expect(client.active).toBe(0);
    client.terminate();
  });

  it('a worker that dies fails its reads with WORKER_FAILED; the next open starts another', async () => {
    async function* hanging(): AsyncGenerator<Uint8Array> {
      await new Promise(() => {});
    }
    const worker = channelWorker(async () => ({ body: hanging(), bytesTotal: null }));
    const client = new ReadWorkerClient(worker.spawn);
    const signal = new AbortController().signal;
    const source = await client.open('http://localhost/a', signal, {});
    const reading = readAll(source.body);
    worker.kill('it ran out of memory');
    await expect(reading).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    await expect(reading).rejects.toThrow(/http:\/\/localhost\/a.*ran out of memory/);
    await client.open('http://localhost/b', signal, {});
    expect(worker.state.spawned).toBe(2);
    client.terminate();
  });
});

/** The body ranges `[start, end)` of the messages of Arrow IPC `bytes`, read with the library's own flatbuffer view. */
function bodyRanges(bytes: Uint8Array, legacy: boolean): Array<[number, number]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ranges: Array<[number, number]> = [];
  let at = bytes[0] === 0x41 ? 8 : 0;
  for (;;) {
    if (!legacy && view.getUint32(at, true) !== 0xffffffff) break;
    const length = view.getInt32(at + (legacy ? 0 : 4), true);
    at += legacy ? 4 : 8;
    if (length <= 0) break;
    const fb = new FlatbufferView(bytes.subarray(at, at + length));
    const field = fb.field(fb.root(), 3);
    const body = field === null ? 0 : fb.i64(field);
    at += length;
    ranges.push([at, at + body]);
    at += body;
  }
  return ranges;
}

describe('large bodies in chunks of their own', () => {
  const table = tableFromArrays({
    x: Float64Array.from({ length: 300_000 }, (_, i) => i),
    y: Int32Array.from({ length: 300_000 }, (_, i) => -i),
  });
  const small = tableFromArrays({ x: Float64Array.from({ length: 1000 }, (_, i) => i) });
  const inputs: Array<[string, Uint8Array, boolean]> = [
    ['stream', tableToIPC(table, 'stream'), false],
    ['file', tableToIPC(table, 'file'), false],
    ['legacy stream', toLegacyFraming(tableToIPC(table, 'stream')), true],
    ['small batches', tableToIPC(small, 'stream'), false],
  ];

  it('each body of 1 MiB or more arrives as one whole chunk of its own, whatever the reads; no byte changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...inputs),
        fc.array(fc.integer({ min: 1, max: 3 << 20 }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        async ([name, bytes, legacy], sizes, byob) => {
          const worker = channelWorker(
            async (_url, signal) => ({
              body: byob ? byteStreamOf(cutAt(bytes, sizes), signal) : chunked(bytes, sizes),
              bytesTotal: bytes.byteLength,
            }),
            () => new BodyCuts(),
          );
          const client = new ReadWorkerClient(worker.spawn);
          const source = await client.open(`http://localhost/${name}`, new AbortController().signal, {});
          const chunks = await readAll(source.body);
          expect(Buffer.compare(concat(chunks), bytes), name).toBe(0);
          const starts = new Map<number, Uint8Array>();
          let at = 0;
          for (const chunk of chunks) {
            starts.set(at, chunk);
            at += chunk.byteLength;
          }
          const large = bodyRanges(bytes, legacy).filter(([s, e]) => e - s >= OWN_CHUNK_MIN_BYTES);
          if (name !== 'small batches') expect(large.length, name).toBeGreaterThan(0);
          for (const [start, end] of large) {
            const chunk = starts.get(start);
            expect(chunk?.byteLength, `${name}: the body at ${start}`).toBe(end - start);
            expect(isOwnedWhole(chunk as Uint8Array), 'a buffer of its own, moved here').toBe(true);
          }
          client.terminate();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('bytes that are not Arrow, or Arrow with lying lengths, pass unchanged', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 4096 }),
        fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 4 }),
        (bytes, sizes) => {
          const cuts = new BodyCuts();
          let passed = 0;
          for (const piece of cutAt(bytes, sizes)) {
            let at = 0;
            while (at < piece.byteLength) {
              const step = cuts.scan(piece.subarray(at));
              at += step.passed;
              passed += step.passed;
              // A cut asks for a chunk of its own: the test hands those bytes over unscanned.
              if (step.ownChunk > 0) {
                expect(step.ownChunk).toBeLessThanOrEqual(256 << 20);
                return; // random bytes claimed a body: what follows is the loader's to judge
              }
            }
          }
          expect(passed).toBe(bytes.byteLength);
        },
      ),
    );
    expect(NO_CUTS.scan(new Uint8Array(5))).toEqual({ passed: 5, ownChunk: 0 });
  });

  it('knows how many of the bytes it scanned belong to a message not yet complete, whatever the pieces', () => {
    const ipc = tableToIPC(small, 'stream');
    const ends = messageEnds(ipc).map((m) => m.end);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }), (sizes) => {
        const cuts = new BodyCuts();
        let at = 0;
        for (const piece of cutAt(ipc, sizes)) {
          expect(cuts.scan(piece).passed).toBe(piece.byteLength);
          at += piece.byteLength;
          // Bytes since the last message's end; none at a message's end or once the stream ended.
          const since = at - Math.max(0, ...ends.filter((end) => end <= at));
          expect(cuts.messageBytes(), `after ${at} bytes`).toBe(at < ipc.byteLength ? since : 0);
        }
      }),
    );
  });
});

describe('buffers given back to the read worker', () => {
  it('the stock keeps buffers of the sizes it was asked for, by exact size, up to its cap, and hands each out once', () => {
    const stock = new ChunkStock(10);
    stock.give([new ArrayBuffer(4)]);
    expect(stock.bytes, 'no size asked for yet').toBe(0);
    expect([stock.take(4), stock.take(6)]).toEqual([null, null]);
    stock.give([
      new ArrayBuffer(4),
      new ArrayBuffer(4),
      new ArrayBuffer(6),
      new ArrayBuffer(3),
      new ArrayBuffer(0),
    ]);
    expect(stock.bytes, 'the 6-byte buffer passes the cap of 10; 3 bytes were never asked for').toBe(8);
    expect(stock.take(6)).toBeNull();
    const a = stock.take(4);
    const b = stock.take(4);
    expect([a?.byteLength, b?.byteLength]).toEqual([4, 4]);
    expect(a?.buffer).not.toBe(b?.buffer);
    expect(stock.take(4)).toBeNull();
    stock.give([new ArrayBuffer(4)]);
    stock.clear();
    expect(stock.bytes).toBe(0);
    stock.give([new ArrayBuffer(4)]);
    expect(stock.bytes, 'asked for before the clear only').toBe(0);
    expect(stock.take(4)).toBeNull();
  });

  it('keeps buffers by a size a little over the chunks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 30 }), (size) => {
        const bytes = stockSize(size);
        expect(bytes).toBeGreaterThanOrEqual(size);
        expect(bytes, 'at most an eighth more').toBeLessThanOrEqual(size * 1.125);
        expect(stockSize(bytes), 'a buffer of that size is kept as it is').toBe(bytes);
      }),
    );
    expect(stockSize(4 << 20)).toBe(4 << 20);
    const stock = new ChunkStock();
    expect(stock.take(3_300_000)).toBeNull();
    const first = newChunk(3_300_000);
    stock.give([first.buffer as ArrayBuffer]);
    const next = stock.take(3_310_000);
    expect(next?.byteLength, 'a body a little longer: the same buffer').toBe(3_310_000);
    expect(next?.buffer).toBe(first.buffer);
    stock.give([new ArrayBuffer(3_300_000)]);
    expect(stock.bytes, 'a buffer of no stock size (a chunk copied out) is dropped').toBe(0);
  });

  it('a released whole chunk goes back where it came from (moved), a part of one or a pooled buffer never', () => {
    const back: ArrayBuffer[] = [];
    const giveBack = (buffer: ArrayBuffer) => {
      back.push(structuredClone(buffer, { transfer: [buffer] }));
    };
    const whole = new Uint8Array(1 << 16).fill(7);
    const shared = new Uint8Array(1 << 16);
    markOwned(whole, giveBack);
    markOwned(shared, giveBack);
    const pool = new BytePool();
    pool.release(shared.subarray(0, 1024));
    expect(back.length, 'a part of a chunk: other views may still read it').toBe(0);
    const before = pool.inUse;
    pool.release(pool.adopt(whole)); // taken whole as a body, as the byte reader does
    expect(pool.inUse, 'adopted, then released').toBe(before);
    expect(back.map((b) => b.byteLength)).toEqual([1 << 16]);
    expect(new Uint8Array(back[0] as ArrayBuffer)[100], 'the bytes moved, not copied').toBe(7);
    expect(whole.byteLength, 'detached here').toBe(0);
    const next = pool.acquire(1 << 16);
    expect(next.buffer, 'nor does the pool keep it').not.toBe(whole.buffer);
    expect(pool.inUse).toBe(before + 1);
    pool.release(next);
    expect(pool.inUse).toBe(before);
  });

  it('later bodies of about a size are read into the buffers of earlier ones given back, and every byte arrives unchanged', async () => {
    // Six batches of about 1.5 MiB bodies, none of the same size: each a chunk of its own.
    const batches = Array.from({ length: 6 }, (_, b) =>
      tableFromArrays({ v: Int32Array.from({ length: 393_216 + b * 1000 }, (_, i) => i * 7 + b) }),
    );
    const ipc = tableToIPC(new Table(batches.flatMap((t) => t.batches)), 'stream');
    const stock = new CountingStock();
    const slowly = async function* () {
      for (let at = 0; at < ipc.byteLength; at += 256 << 10) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield ipc.slice(at, at + (256 << 10));
      }
    };
    const { client, source } = await readThroughWorker(slowly(), ipc.byteLength, stock);
    const copies: Uint8Array[] = [];
    for await (const chunk of source.body) {
      copies.push(chunk.slice());
      // The load is done with a body once its batch is uploaded: here, at once, scribbled over first.
      if (isOwnedWhole(chunk)) {
        chunk.fill(0xee);
        new BytePool().release(chunk);
      }
    }
    expect(Buffer.compare(concat(copies), ipc)).toBe(0);
    expect(stock.hits, 'bodies read into a buffer given back').toBeGreaterThan(0);
    client.terminate();
  });

  it('chunks shared by small batches go back once their batches are done, and later bytes are read into them', async () => {
    // Twice what the read worker and the loader hold ahead, in batches of 256 KiB: none gets a chunk of
    // its own.
    const rows = 65_536;
    const ahead = READ_WORKER_AHEAD_BYTES + LOW_WATER_BYTES + PULL_BYTES;
    const batches = Array.from({ length: (2 * ahead) / (rows * 4) }, (_, b) =>
      tableFromArrays({ v: Int32Array.from({ length: rows }, (_, i) => i * 7 + b) }),
    );
    const ipc = tableToIPC(new Table(batches.flatMap((t) => t.batches)), 'stream');
    const stock = new CountingStock();
    // The response comes faster than the batches are decoded, as from a fast network: the read worker
    // fills whole chunks ahead of the loader.
    const fast = async function* () {
      for (let at = 0; at < ipc.byteLength; at += 1 << 20) yield ipc.slice(at, at + (1 << 20));
    };
    const { client, source } = await readThroughWorker(fast(), ipc.byteLength, stock);
    const framer = new IpcFramer(source.body, 'http://localhost/given-back');
    framer.pool = new BytePool();
    const stream = await openBatchStream(framer, 'http://localhost/given-back');
    let checked = 0;
    let held = 0;
    for await (const { batch, index, heldBody, pooledBody } of stream.batches) {
      const want = Int32Array.from({ length: rows }, (_, i) => i * 7 + index);
      const got = batch.getChild('v')?.toArray() as Int32Array;
      expect(
        Buffer.compare(
          new Uint8Array(got.buffer, got.byteOffset, got.byteLength),
          new Uint8Array(want.buffer),
        ),
        `batch ${index}`,
      ).toBe(0);
      checked++;
      if (heldBody) held++;
      if (heldBody) releaseShared(heldBody);
      if (pooledBody) framer.pool.release(pooledBody);
    }
    expect(checked).toBe(batches.length);
    expect(held, 'bodies taken as views of the shared chunks').toBeGreaterThan(batches.length / 2);
    expect(stock.hitsOf(READ_CHUNK_BYTES), 'chunks read into buffers given back').toBeGreaterThan(0);
    client.terminate();
  });
});

/** A response of `bytesTotal` bytes, `body`, read through a read worker that cuts large bodies and keeps given-back buffers in `stock`. */
async function readThroughWorker(body: AsyncIterable<Uint8Array>, bytesTotal: number, stock: ChunkStock) {
  const worker = channelWorker(
    async () => ({ body, bytesTotal }),
    () => new BodyCuts(),
    stock,
  );
  const client = new ReadWorkerClient(worker.spawn);
  const source = await client.open('http://localhost/given-back', new AbortController().signal, {});
  return { client, source };
}

/** A stock that counts the buffers it handed out again. */
class CountingStock extends ChunkStock {
  hits = 0;
  readonly #bySize = new Map<number, number>();
  override take(size: number): Uint8Array | null {
    const got = super.take(size);
    if (got) this.hits++;
    if (got) this.#bySize.set(size, this.hitsOf(size) + 1);
    return got;
  }

  /** Buffers of `size` bytes handed out again. */
  hitsOf(size: number): number {
    return this.#bySize.get(size) ?? 0;
  }
}

describe('chunks that start aligned', () => {
  it('every record batch body lies 8-byte aligned in its chunk, whatever the read sizes and the pace; none waits for bytes held back', async () => {
    const batches = Array.from({ length: 40 }, (_, b) =>
      tableFromArrays({ v: Float64Array.from({ length: 500 + b * 37 }, (_, i) => i * 0.5 + b) }),
    );
    const ipc = tableToIPC(new Table(batches.flatMap((t) => t.batches)), 'stream');
    await fc.assert(
      fc.asyncProperty(
        // Pieces larger than most bodies (4-16 KB), so that many lie in one chunk, taken as views.
        fc.array(fc.integer({ min: 20_001, max: 80_001 }), { minLength: 1, maxLength: 8 }),
        async (sizes) => {
          // The response in pieces of odd sizes, a turn apart: the loader, reading as fast as they come,
          // asks for bytes before a chunk is full, again and again.
          const pieces = async function* () {
            for (let at = 0, i = 0; at < ipc.byteLength; i++) {
              const size = sizes[i % sizes.length] as number;
              await new Promise((resolve) => setTimeout(resolve, 0));
              yield ipc.slice(at, at + size);
              at += size;
            }
          };
          const { client, source } = await readThroughWorker(pieces(), ipc.byteLength, new ChunkStock());
          const framer = new IpcFramer(source.body, 'http://localhost/aligned');
          framer.pool = new BytePool();
          const stream = await openBatchStream(framer, 'http://localhost/aligned');
          let index = 0;
          let views = 0;
          for await (const { batch, heldBody, pooledBody } of stream.batches) {
            const want = batches[index++]?.getChild('v')?.toArray() as Float64Array;
            expect(Array.from(batch.getChild('v')?.toArray() as Float64Array)).toEqual(Array.from(want));
            if (heldBody) {
              views++;
              expect(heldBody.byteOffset % 8, `batch ${index - 1}`).toBe(0);
              releaseShared(heldBody);
            }
            if (pooledBody) framer.pool.release(pooledBody);
          }
          expect(index).toBe(batches.length);
          expect(views, 'bodies taken as views of the chunks').toBeGreaterThan(0);
          client.terminate();
        },
      ),
      { numRuns: 15 },
    );
  });

  it('holds back no byte of a message that is complete, even from a writer that does not pad to 8 bytes', async () => {
    // A stream whose schema message is 4 bytes short of its padding: the framer reads it all the same.
    // A column name that leaves 4 bytes of padding at the end of the schema's metadata.
    const streams = Array.from({ length: 16 }, (_, n) =>
      tableToIPC(
        tableFromArrays({ ['c'.repeat(n + 1)]: Float64Array.from({ length: 10 }, (_, i) => i) }),
        'stream',
      ),
    );
    const lengthOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getInt32(4, true);
    const ipc = streams.find((s) => s.subarray(8 + lengthOf(s) - 4, 8 + lengthOf(s)).every((b) => b === 0));
    if (!ipc) throw new Error('no schema with 4 bytes of padding');
    const length = lengthOf(ipc);
    const odd = new Uint8Array(ipc.byteLength - 4);
    odd.set(ipc.subarray(0, 8 + length - 4));
    odd.set(ipc.subarray(8 + length), 8 + length - 4);
    new DataView(odd.buffer).setInt32(4, length - 4, true);
    const schemaEnd = 8 + length - 4;
    let sent = 0;
    let messages = 0;
    let ended = false;
    const post: PostToLoader = (message) => {
      if (message.type !== 'chunks') return;
      messages++;
      ended ||= message.end;
      for (const chunk of message.chunks) sent += chunk.byteLength;
    };
    const read = new HostedRead(1, post, { maxBytes: 1 << 30, pullBytes: 4 << 20 }, new BodyCuts());
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const body = async function* () {
      yield odd.slice(0, 3); // the open's first pull takes these: the next ask finds a chunk begun
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield odd.slice(3, schemaEnd + 1);
      await gate;
      yield odd.slice(schemaEnd + 1);
    };
    const running = read.run(async () => ({ body: body(), bytesTotal: null }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    read.pull(true, messages);
    expect(sent, `the schema ends at byte ${schemaEnd}`).toBeGreaterThanOrEqual(schemaEnd);
    release();
    // Read to its end: past the end-of-stream marker too, since this side keeps asking.
    while (read.signal.aborted === false && !ended) {
      read.pull(true, messages);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await running;
    expect(sent).toBe(odd.byteLength);
  });

  it('a batch whose bytes have all come is handed over while the stream pauses after it, in pieces of any size', async () => {
    const ipc = tableToIPC(
      tableFromArrays({ v: Float64Array.from({ length: 1001 }, (_, i) => i) }),
      'stream',
    );
    const schemaAndBatch = ipc.byteLength - 8; // all but the end-of-stream marker
    for (const piece of [1, 3, 7, 13, 1000]) {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const paused = async function* () {
        for (let at = 0; at < schemaAndBatch; at += piece) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          yield ipc.slice(at, Math.min(at + piece, schemaAndBatch));
        }
        await gate; // a live stream: the next batch is not written yet
        yield ipc.slice(schemaAndBatch);
      };
      const { client, source } = await readThroughWorker(paused(), ipc.byteLength, new ChunkStock());
      const framer = new IpcFramer(source.body, 'http://localhost/live');
      const stream = await openBatchStream(framer, 'http://localhost/live');
      const batches = stream.batches[Symbol.asyncIterator]();
      const first = await batches.next();
      expect(first.done, `pieces of ${piece}`).toBe(false);
      release();
      expect((await batches.next()).done).toBe(true);
      client.terminate();
    }
  });
});

describe('a chunk read to its end and given back', () => {
  it('leaves the reader nothing of its buffer: reading on at the end of the source gives no bytes, and no error', async () => {
    const body = new Uint8Array(1 << 16).fill(3);
    const moved: ArrayBuffer[] = [];
    markOwned(body, (buffer) => moved.push(structuredClone(buffer, { transfer: [buffer] })));
    const reader = new ByteReader(
      (async function* () {
        yield body;
      })(),
    );
    const pool = new BytePool();
    const got = await reader.read(body.byteLength, pool);
    expect(isOwnedWhole(got), 'taken whole, as a pooled read').toBe(true);
    pool.release(got); // its batch uploaded: the buffer moves back to the read worker
    expect(moved.length).toBe(1);
    const after = await reader.read(4);
    expect(after.byteLength, 'the source ended').toBe(0);
  });
});

describe('a stream read to its end-of-stream marker', () => {
  /** A stream of `batches` record batches of Int32 values, the last ones `tailValues`. */
  function int32Stream(batches: number, tailValues: number[]): Uint8Array {
    const tables = Array.from({ length: batches }, (_, b) =>
      tableFromArrays({
        v: Int32Array.from([...Array.from({ length: 64 }, (_, i) => i + b), ...tailValues]),
      }),
    );
    return tableToIPC(new Table(tables.flatMap((t) => t.batches)), 'stream');
  }

  /** A source of `bytes` in reads that end at `cuts`, noting each read it was asked for; `more` after them. */
  function countedSource(bytes: Uint8Array, cuts: number[], more: Uint8Array | null) {
    const state = { reads: 0 };
    async function* body(): AsyncGenerator<Uint8Array> {
      let at = 0;
      for (const end of [...cuts, bytes.byteLength]) {
        state.reads++;
        yield bytes.slice(at, end);
        at = end;
      }
      if (!more) return;
      state.reads++; // asked past the marker: a chunked response would now be read to its end
      yield more;
    }
    return { state, body };
  }

  it('once the bytes read end with the marker, the worker reads no further, and the loader closes the request', async () => {
    const ipc = int32Stream(3, [7]);
    const { state, body } = countedSource(ipc, [ipc.byteLength - 100], new Uint8Array(8));
    const worker = channelWorker(async () => ({ body: body(), bytesTotal: null }));
    const client = new ReadWorkerClient(worker.spawn);
    const controller = new AbortController();
    const source = await client.open('http://localhost/ends', controller.signal, {});
    const stream = await openBatchStream(new IpcFramer(source.body, 'http://localhost/ends'), 'ends');
    let rows = 0;
    for await (const { batch } of stream.batches) rows += batch.numRows;
    expect(rows).toBe(3 * 65);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.reads, 'the reads up to the marker, none after it').toBe(2);
    controller.abort(); // as the load does once its messages end
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(worker.state.signals[0]?.aborted, 'the request closed on the worker').toBe(true);
    expect(client.active).toBe(0);
    client.terminate();
  });

  it('body bytes that end a read as a marker would only hold the next read until the loader has no byte left', async () => {
    // A batch whose values end with -1, 0 (0xFFFFFFFF 0x00000000, a marker's bytes), cut right after them.
    const ipc = int32Stream(4, [-1, 0]);
    const fake: number[] = [];
    for (let at = 0; at + 8 <= ipc.byteLength - 8; at += 4) {
      if (isEndOfStreamMarker(ipc, at)) fake.push(at + 8);
    }
    expect(fake.length, 'marker-like bytes inside the batches').toBeGreaterThan(0);
    const { state, body } = countedSource(ipc, fake, null);
    const worker = channelWorker(async () => ({ body: body(), bytesTotal: null }));
    const client = new ReadWorkerClient(worker.spawn);
    const source = await client.open('http://localhost/fake', new AbortController().signal, {});
    const received = concat(await readAll(source.body));
    expect(Buffer.compare(received, ipc), 'every byte, in order').toBe(0);
    expect(state.reads).toBe(fake.length + 1);
    client.terminate();
  });
});
