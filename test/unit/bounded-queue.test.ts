import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedQueue, QueueClosedError } from '../../src/core/pipeline/bounded-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('BoundedQueue', () => {
  it('has capacity 2 by default and rejects a capacity below 1', () => {
    expect(new BoundedQueue<number>().capacity).toBe(2);
    expect(() => new BoundedQueue<number>(0)).toThrow(RangeError);
    expect(() => new BoundedQueue<number>(1.5)).toThrow(RangeError);
  });

  it('enqueue resolves at once while there is room and waits while the queue is full', async () => {
    const queue = new BoundedQueue<number>(2);
    await queue.enqueue(1);
    await queue.enqueue(2);
    let third = false;
    const pending = queue.enqueue(3).then(() => {
      third = true;
    });
    await tick();
    expect(third).toBe(false);
    expect(queue.size).toBe(2);
    expect(await queue.dequeue()).toBe(1);
    await pending;
    expect(third).toBe(true);
    expect(queue.size).toBe(2);
    expect(queue.peakSize).toBe(2);
  });

  it('dequeue waits for an item and yields items in FIFO order', async () => {
    const queue = new BoundedQueue<string>(1);
    const first = queue.dequeue();
    const second = queue.dequeue();
    await queue.enqueue('a');
    await queue.enqueue('b');
    expect(await first).toBe('a');
    expect(await second).toBe('b');
  });

  it('close lets consumers drain queued items, then yields undefined', async () => {
    const queue = new BoundedQueue<number>(2);
    await queue.enqueue(1);
    await queue.enqueue(2);
    queue.close();
    expect(await queue.dequeue()).toBe(1);
    expect(await queue.dequeue()).toBe(2);
    expect(await queue.dequeue()).toBeUndefined();
    expect(await queue.dequeue()).toBeUndefined();
  });

  it('enqueue rejects with QueueClosedError once closed, including producers already waiting', async () => {
    const queue = new BoundedQueue<number>(1);
    await queue.enqueue(1);
    const waiting = queue.enqueue(2);
    queue.close();
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    await expect(queue.enqueue(3)).rejects.toBeInstanceOf(QueueClosedError);
    expect(await queue.dequeue()).toBe(1);
  });

  it('close wakes waiting consumers with undefined', async () => {
    const queue = new BoundedQueue<number>();
    const waiting = queue.dequeue();
    queue.close();
    expect(await waiting).toBeUndefined();
  });

  it('abort rejects every waiter and every later call with the reason, and drops queued items', async () => {
    const reason = new Error('stop');
    const full = new BoundedQueue<number>(1);
    await full.enqueue(1);
    const producer = full.enqueue(2);
    full.abort(reason);
    await expect(producer).rejects.toBe(reason);
    await expect(full.dequeue()).rejects.toBe(reason);
    await expect(full.enqueue(3)).rejects.toBe(reason);

    const empty = new BoundedQueue<number>(1);
    const consumer = empty.dequeue();
    empty.abort(reason);
    await expect(consumer).rejects.toBe(reason);
  });

  it('iterates asynchronously until closed and drained', async () => {
    const queue = new BoundedQueue<number>(2);
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const item of queue) seen.push(item);
    })();
    for (let i = 0; i < 10; i++) await queue.enqueue(i);
    queue.close();
    await consumer;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('never holds more than its capacity, loses nothing and keeps each producer in order (random interleavings)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.scheduler(),
        async (capacity, producerCounts, consumers, s) => {
          const queue = new BoundedQueue<{ producer: number; seq: number }>(capacity);
          let maxSize = 0;
          const producers = producerCounts.map(async (count, producer) => {
            for (let seq = 0; seq < count; seq++) {
              await s.schedule(Promise.resolve());
              await queue.enqueue({ producer, seq });
              maxSize = Math.max(maxSize, queue.size);
            }
          });
          const received: Array<{ producer: number; seq: number }> = [];
          const consumerTasks = Array.from({ length: consumers }, async () => {
            for (;;) {
              await s.schedule(Promise.resolve());
              const item = await queue.dequeue();
              if (item === undefined) return;
              received.push(item);
            }
          });
          const all = Promise.all(producers).then(() => queue.close());
          await s.waitFor(Promise.all([all, ...consumerTasks]));
          expect(maxSize).toBeLessThanOrEqual(capacity);
          expect(queue.peakSize).toBeLessThanOrEqual(capacity);
          expect(received.length).toBe(producerCounts.reduce((a, b) => a + b, 0));
          producerCounts.forEach((count, producer) => {
            const seqs = received.filter((r) => r.producer === producer).map((r) => r.seq);
            expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is strictly FIFO with one producer and one consumer under any scheduling', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 30 }), fc.scheduler(), async (items, s) => {
        const queue = new BoundedQueue<{ v: number }>(2);
        const out: number[] = [];
        const producer = (async () => {
          for (const v of items) {
            await s.schedule(Promise.resolve());
            await queue.enqueue({ v });
          }
          queue.close();
        })();
        const consumer = (async () => {
          for await (const { v } of queue) {
            out.push(v);
            await s.schedule(Promise.resolve());
          }
        })();
        await s.waitFor(Promise.all([producer, consumer]));
        expect(out).toEqual(items);
      }),
      { numRuns: 200 },
    );
  });

  it('after abort at a random point every pending and later operation settles (none hangs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 20 }), fc.scheduler(), async (abortAfter, s) => {
        const queue = new BoundedQueue<number>(2);
        const reason = new Error('aborted');
        let steps = 0;
        const producer = (async () => {
          for (let i = 0; ; i++) {
            await s.schedule(Promise.resolve());
            if (steps++ === abortAfter) queue.abort(reason);
            await queue.enqueue(i);
          }
        })();
        const consumer = (async () => {
          for (;;) {
            await s.schedule(Promise.resolve());
            await queue.dequeue();
          }
        })();
        await s.waitFor(Promise.allSettled([producer, consumer]));
        await expect(producer).rejects.toBe(reason);
        await expect(consumer).rejects.toBe(reason);
      }),
      { numRuns: 100 },
    );
  });
});
