import { Message, MessageHeader, type RecordBatch, tableFromIPC } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedBatch } from '../../src/core/ipc/decode.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { BytePool } from '../../src/core/source/byte-pool.js';
import { markOwned } from '../../src/core/source/owned-buffers.js';
import { ReadAhead } from '../../src/core/source/read-ahead.js';
import { ReadBuffers } from '../../src/core/source/read-buffers.js';
import { holdShared, passShared, pinShared, releaseShared } from '../../src/core/source/shared-chunks.js';
import { readStream } from '../../src/core/source/stream-source.js';
import { byteStream, encodeDataset } from '../support/byte-sources.js';
import { valuesOf } from '../support/decode.js';

// A read worker chunk that holds several messages goes back to the read worker once the reader has
// moved past it and every record batch body in it is released; never while a batch still reads it, and
// never when it holds a dictionary (kept for the whole load). A chunk given back is scribbled over and
// moved here, so that a batch still reading it would read other values, or fail.

/** Chunks that record and scribble over what is given back, then move it away (detached here). */
class ChunkHome {
  /** The byte lengths of the buffers given back, in order. */
  readonly back: number[] = [];
  /** Which chunks (numbered as made, from 0) were given back, in order. */
  readonly backChunks: number[] = [];
  #made = 0;

  /** `bytes` as a view at the start of a buffer `slack` bytes longer, owned, with its way back here. */
  chunk(bytes: Uint8Array, slack: number): Uint8Array {
    const view = new Uint8Array(new ArrayBuffer(bytes.byteLength + slack), 0, bytes.byteLength);
    view.set(bytes);
    const number = this.#made++;
    markOwned(view, (buffer) => {
      new Uint8Array(buffer).fill(0xee);
      this.back.push(buffer.byteLength);
      this.backChunks.push(number);
      structuredClone(buffer, { transfer: [buffer] }); // throws if moved twice
    });
    return view;
  }

  /** `bytes` cut at `sizes` (cycled) into such chunks, each with the next of `slacks`. */
  async *cut(
    bytes: Uint8Array,
    sizes: readonly number[],
    slacks: readonly number[],
  ): AsyncGenerator<Uint8Array> {
    for (let at = 0, i = 0; at < bytes.byteLength; i++) {
      const size = Math.max(1, sizes[i % sizes.length] as number);
      yield this.chunk(bytes.subarray(at, at + size), slacks[i % slacks.length] as number);
      at += size;
    }
  }
}

/**
 * Decodes `source` as a load does, `window` batches held past their decode (the load's queue and the
 * batch being uploaded); each is checked against `expected` when it is let go, then released.
 */
async function decodeHolding(source: AsyncIterable<Uint8Array>, expected: RecordBatch[], window: number) {
  const framer = new IpcFramer(source, 'test://shared');
  const pool = new BytePool();
  framer.pool = pool;
  const stream = await openBatchStream(framer, 'test://shared');
  const held: DecodedBatch[] = [];
  let checked = 0;
  /** Bodies taken as views of a chunk, and those of them not on 8 bytes (copied to be read). */
  const views = { all: 0, misaligned: 0 };
  const letGo = (decoded: DecodedBatch) => {
    expect(valuesOf([decoded.batch]), `batch ${decoded.index}`).toEqual(
      valuesOf([expected[decoded.index] as RecordBatch]),
    );
    checked++;
    if (decoded.pooledBody) pool.release(decoded.pooledBody);
    if (decoded.heldBody) releaseShared(decoded.heldBody);
  };
  for await (const decoded of stream.batches) {
    if (decoded.heldBody) {
      views.all++;
      if (decoded.heldBody.byteOffset % 8 !== 0) views.misaligned++;
    }
    held.push(decoded);
    if (held.length > window) letGo(held.shift() as DecodedBatch);
  }
  for (const decoded of held.splice(0)) letGo(decoded);
  return { checked, held: pool.inUse, views };
}

const spec = {
  rows: 6000,
  batchRows: 97,
  format: 'stream',
  columns: { x: 'f32', id: 'i32', label: 'dict-utf8' },
  nulls: { x: 0.2 },
} as const;
const ipc = encodeDataset(spec);
const expected = tableFromIPC(ipc).batches;

describe('chunks shared by several messages', () => {
  it('a chunk goes back once passed and every hold on it is released; a pinned one never', () => {
    const home = new ChunkHome();
    const a = home.chunk(new Uint8Array(64), 0);
    const first = a.subarray(0, 16);
    const second = a.subarray(16, 48);
    expect([holdShared(first), holdShared(second)]).toEqual([true, true]);
    passShared(a.buffer as ArrayBuffer);
    releaseShared(first);
    expect(home.back, 'one body still held').toEqual([]);
    releaseShared(first); // released twice: the second is not a hold of its own
    expect(home.back).toEqual([]);
    releaseShared(second);
    expect(home.back, 'the last hold released').toEqual([64]);

    const b = home.chunk(new Uint8Array(32), 0);
    const body = b.subarray(0, 8);
    expect(holdShared(body)).toBe(true);
    releaseShared(b.subarray(0, 8)); // another view of the same bytes: not the one held
    passShared(b.buffer as ArrayBuffer);
    expect(home.back, 'a hold ends with the view it was taken for').toEqual([64]);
    releaseShared(body);
    expect(home.back).toEqual([64, 32]);

    const d = home.chunk(new Uint8Array(16), 0);
    const e = d.subarray(0, 4);
    holdShared(e);
    releaseShared(e);
    expect(home.back, 'released, but the reader is not past it yet').toEqual([64, 32]);
    passShared(d.buffer as ArrayBuffer);
    expect(home.back).toEqual([64, 32, 16]);

    const c = home.chunk(new Uint8Array(16), 0);
    pinShared(c.subarray(4, 8));
    expect(holdShared(c.subarray(0, 4)), 'a pinned chunk has no way back: nothing to hold').toBe(false);
    passShared(c.buffer as ArrayBuffer);
    expect(home.back).toEqual([64, 32, 16]);
    expect(holdShared(new Uint8Array(8)), 'bytes of no read worker').toBe(false);
  });

  it('every batch reads its own values while any chunk is given back, whatever the cuts and the batches held', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom(0, 0, 8, 4096), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 4 }),
        async (sizes, slacks, window) => {
          const home = new ChunkHome();
          const { checked, held } = await decodeHolding(home.cut(ipc, sizes, slacks), expected, window);
          expect(checked).toBe(expected.length);
          expect(held, 'pooled bodies not released').toBe(0);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('every chunk goes back but the one a dictionary was read from, which every batch reads, and the last', async () => {
    const home = new ChunkHome();
    const dictionary = dictionaryBody(ipc);
    expect(dictionary.end - dictionary.start).toBeGreaterThan(64);
    // Chunks of 256 bytes, but one with the whole dictionary body (taken as a view of it) and 16 bytes either side.
    const sizes = [dictionary.start - 16, dictionary.end - dictionary.start + 32];
    for (let at = dictionary.end + 16; at < ipc.byteLength; at += 256) sizes.push(256);
    await decodeHolding(home.cut(ipc, sizes, [16]), expected, 2);
    expect(expected.length).toBeGreaterThan(50);
    expect(home.backChunks, 'the chunk the schema was read from').toContain(0);
    expect(home.backChunks, 'the chunk of the dictionary').not.toContain(1);
    // The reader passes the last chunks as it reads the end-of-stream marker: no batch is read after.
    expect(home.backChunks.length).toBeGreaterThanOrEqual(sizes.length - 3);
  });
});

describe('a byte stream read into buffers that come back', () => {
  it('reads each chunk into a buffer given back once the framer is done with it, aligned as in the stream; held batches keep their values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 100, max: 6000 }),
        fc.integer({ min: 0, max: 4 }),
        async (size, window) => {
          // Buffers of 8 KiB: the reads of `size` bytes land in them, and the next reads overwrite a
          // buffer given back, so a batch still reading one would read other values.
          const buffers = new ReadBuffers(8192);
          const signal = new AbortController().signal;
          // A read-ahead of two buffers, as a load's of 1 MiB holds about one 1 MiB read.
          const stream = readStream(byteStream(ipc, size), 'bytes', signal, undefined, buffers);
          const source = new ReadAhead(stream, 2 * 8192);
          const { checked, held, views } = await decodeHolding(source, expected, window);
          expect(checked).toBe(expected.length);
          expect(held, 'pooled bodies not released').toBe(0);
          // Each read lands where its first byte lies in an 8-byte word: bodies lie aligned in them.
          expect(views.misaligned, `of ${views.all} bodies read in place`).toBe(0);
          // Those in use at once (the read-ahead's, the reader's, the held batches', a dictionary's, which
          // stays), and a few let go while the spares were full: far fewer than the reads.
          const reads = Math.ceil(ipc.byteLength / size);
          expect(buffers.made, `buffers made for ${reads} reads`).toBeLessThanOrEqual(12 + reads / 4);
        },
      ),
      { numRuns: 20 },
    );
  });
});

/** Where the first dictionary batch's body lies in stream `bytes` (walked with apache-arrow's `Message`). */
function dictionaryBody(bytes: Uint8Array): { start: number; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.byteLength; ) {
    const length = view.getInt32(at + 4, true);
    const message = Message.decode(bytes.subarray(at + 8, at + 8 + length));
    const start = at + 8 + length;
    if (message.headerType === MessageHeader.DictionaryBatch)
      return { start, end: start + message.bodyLength };
    at = start + message.bodyLength;
  }
  throw new Error('no dictionary batch');
}
