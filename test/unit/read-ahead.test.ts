import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { BytePool } from '../../src/core/source/byte-pool.js';
import { ReadAhead } from '../../src/core/source/read-ahead.js';
import { chunked, encodeDataset } from '../support/byte-sources.js';

async function collect(source: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of source) out.push(...chunk);
  return out;
}

describe('ReadAhead', () => {
  it('passes every byte through in order, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1 }),
        fc.integer({ min: 1, max: 1000 }),
        async (bytes, sizes, max) => {
          expect(await collect(new ReadAhead(chunked(bytes, sizes), max))).toEqual([...bytes]);
        },
      ),
    );
  });

  it('pulls ahead of its consumer but never holds more than its byte budget (plus one chunk)', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        pulled += 100;
        yield new Uint8Array(100);
      }
    }
    const ahead = new ReadAhead(source(), 1000);
    const iterator = ahead[Symbol.asyncIterator]();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBeGreaterThanOrEqual(1000);
    expect(pulled).toBeLessThanOrEqual(1100);
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ahead.peakBytes).toBeLessThanOrEqual(1100);
    expect(ahead.received).toBe(pulled);
  });

  it('hands a source error to the consumer after the bytes that came before it', async () => {
    async function* failing() {
      yield Uint8Array.of(1, 2);
      throw new Error('connection reset');
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const chunk of new ReadAhead(failing(), 1 << 20)) seen.push(...chunk);
      })(),
    ).rejects.toThrow('connection reset');
    expect(seen).toEqual([1, 2]);
  });

  it('holds its next pull after bytes ending with an end-of-stream marker, until its consumer runs out', async () => {
    const marker = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    // The marker whole at the end of a chunk, split over two chunks, or in a chunk of its own.
    const cases = [
      [
        [1, 2, ...marker],
        [9, 9],
      ],
      [
        [1, 2, 0xff, 0xff],
        [0xff, 0xff, 0, 0, 0, 0],
        [9, 9],
      ],
      [[1, 2], marker, [9, 9]],
    ];
    for (const chunks of cases) {
      let pulled = 0;
      async function* source() {
        for (const chunk of chunks) {
          pulled++;
          yield Uint8Array.from(chunk);
        }
      }
      const ahead = new ReadAhead(source(), 1 << 20);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(pulled, `chunks pulled before the consumer asked: ${JSON.stringify(chunks)}`).toBe(
        chunks.length - 1,
      );
      // Every byte still comes, in order, once the consumer wants more.
      expect(await collect(ahead)).toEqual(chunks.flat());
      expect(pulled).toBe(chunks.length);
    }
  });

  it('passes every byte through in order when end-of-stream markers lie anywhere in the bytes', async () => {
    const marker = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constant(marker)), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1 }),
        fc.integer({ min: 1, max: 200 }),
        async (pieces, sizes, max) => {
          const bytes = Uint8Array.from(pieces.flatMap((p) => [...p]));
          expect(await collect(new ReadAhead(chunked(bytes, sizes), max))).toEqual([...bytes]);
        },
      ),
    );
  });

  it('stops pulling and releases the source on cancel', async () => {
    let returned = false;
    async function* endless() {
      try {
        for (;;) yield new Uint8Array(10);
      } finally {
        returned = true;
      }
    }
    const ahead = new ReadAhead(endless(), 100);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await ahead.cancel();
    expect(returned).toBe(true);
  });
});

describe('pooled message buffers', () => {
  it('reuse a handful of buffers for many straddling messages once bodies are released', async () => {
    const bytes = encodeDataset({
      rows: 60 * 500,
      batchRows: 500,
      format: 'stream',
      columns: { a: 'f64', b: 'i32' },
    });
    const pool = new BytePool();
    const framer = new IpcFramer(chunked(bytes, [1000, 777]), 'pooled');
    framer.pool = pool;
    let pooled = 0;
    for await (const message of framer) {
      if (message.pooled) {
        pooled++;
        pool.release(message.body);
      }
    }
    expect(pooled).toBe(60);
    expect(pool.allocations).toBeLessThanOrEqual(2);
    expect(pool.inUse).toBe(0);
  });
});
