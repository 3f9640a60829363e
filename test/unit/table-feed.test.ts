import { describe, expect, it } from 'vitest';
import { TableFeed } from '../../src/client/table-feed.js';
import type { TableSnapshot, TableUpdateMessage } from '../../src/protocol.js';

// The updates of a table from `open` come on their own channel, so they may arrive before the table
// exists or after the snapshot that ends the load: each batch must still be reported once, in order,
// after the table counts its rows, and the end only once every batch was reported.

function update(seq: number, batches: number[]): TableUpdateMessage {
  const last = batches[batches.length - 1] ?? 0;
  return {
    seq,
    numRows: (last + 1) * 10,
    batches: batches.map((batch) => ({
      batch,
      rows: (batch + 1) * 10,
      msFromLastByte: batch + 0.5,
      msOnGpu: batch + 0.25,
    })),
    columns: [],
  };
}

function snapshot(updates: number, numRows: number): TableSnapshot {
  return { tableId: 1, numRows, columns: [], skipped: [], stats: {} as TableSnapshot['stats'], updates };
}

describe('TableFeed', () => {
  it('holds updates that come before the table, then delivers every batch once, in order, after the rows', () => {
    const heard: string[] = [];
    let rows = 0;
    const feed = new TableFeed(({ batch, rows: through, msFromLastByte, msOnGpu }) =>
      heard.push(`batch ${batch} (${through}, ${msFromLastByte} ms, ${msOnGpu} on the GPU) at ${rows}`),
    );
    feed.receive(update(1, [0]));
    feed.receive(update(2, [1, 2]));
    expect(heard).toEqual([]);
    feed.follow((u) => {
      rows = u.numRows;
    });
    feed.receive(update(3, [3]));
    expect(heard).toEqual([
      'batch 0 (10, 0.5 ms, 0.25 on the GPU) at 10',
      'batch 1 (20, 1.5 ms, 1.25 on the GPU) at 30',
      'batch 2 (30, 2.5 ms, 2.25 on the GPU) at 30',
      'batch 3 (40, 3.5 ms, 3.25 on the GPU) at 40',
    ]);
  });

  it('ends once the updates the final snapshot includes have all come, however late', async () => {
    const heard: number[] = [];
    const feed = new TableFeed(({ batch }) => heard.push(batch));
    feed.follow(() => {});
    feed.receive(update(1, [0]));
    let ended = false;
    const ending = feed.ended(Promise.resolve(snapshot(3, 40))).then((s) => {
      ended = true;
      return s;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(ended).toBe(false);
    feed.receive(update(2, [1]));
    feed.receive(update(3, [2, 3]));
    expect((await ending).numRows).toBe(40);
    expect(heard).toEqual([0, 1, 2, 3]);
  });

  it('a callback that throws does not stop the batches after it', () => {
    const heard: number[] = [];
    const feed = new TableFeed(({ batch }) => {
      heard.push(batch);
      if (batch === 0) throw new Error('page bug');
    });
    const uncaught: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => {
      try {
        task();
      } catch (error) {
        uncaught.push(error);
      }
    };
    try {
      feed.follow(() => {});
      feed.receive(update(1, [0, 1]));
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(heard).toEqual([0, 1]);
    expect(uncaught.map((e) => (e as Error).message)).toEqual(['page bug']);
  });
});
