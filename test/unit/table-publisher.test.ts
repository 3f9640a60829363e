import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type BatchLanded,
  type PublishedTable,
  TablePublisher,
  type TableUpdate,
} from '../../src/core/pipeline/table-publisher.js';

// A loading table's rows are published once the GPU did the work submitted before them, in submit
// order; each batch says how long that took from its last byte (`msFromLastByte`) and, of that, from
// the submit it was published after (`msOnGpu`). The clock is `performance.now`, set by each step here.

/** A publisher whose `landed` promises the test resolves, one per submit, and whose clock it sets. */
function setUp() {
  let clock = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
  const landings: Array<() => void> = [];
  const updates: TableUpdate[] = [];
  const table: PublishedTable = { numRows: 0, columns: [] };
  const landed = () => new Promise<void>((resolve) => landings.push(resolve));
  const publisher = new TablePublisher(
    table,
    landed,
    () => [],
    (update) => updates.push(update),
  );
  const at = (ms: number) => {
    clock = ms;
  };
  /** Resolves submit `k`'s landing at `ms` and lets the publishing chain run. */
  const land = async (k: number, ms: number) => {
    at(ms);
    (landings[k] as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  const times = () =>
    updates.flatMap((u) => u.batches.map((b: BatchLanded) => [b.batch, b.msFromLastByte, b.msOnGpu]));
  return { publisher, table, updates, at, land, times };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TablePublisher', () => {
  it('times a batch from its last byte and from its submit to the GPU’s report', async () => {
    const { publisher, table, at, land, times } = setUp();
    publisher.appended(0, 10, 100); // its last byte read at 100
    at(104);
    publisher.submitted();
    await land(0, 111);
    expect(times()).toEqual([[0, 11, 7]]);
    expect(table.numRows).toBe(10);
  });

  it('gives batches published together their own time from their last byte, and the same from the submit', async () => {
    const { publisher, at, land, times } = setUp();
    publisher.appended(0, 10, 100);
    publisher.appended(1, 20, 103);
    at(105);
    publisher.submitted();
    await land(0, 110);
    expect(times()).toEqual([
      [0, 10, 5],
      [1, 7, 5],
    ]);
  });

  it('publishes in submit order: a later submit done first waits, and its time runs until it is published', async () => {
    const { publisher, updates, at, land, times } = setUp();
    publisher.appended(0, 10, 100);
    at(102);
    publisher.submitted();
    publisher.appended(1, 20, 106);
    at(108);
    publisher.submitted();
    await land(1, 109);
    expect(updates, 'nothing before the first submit is done').toEqual([]);
    await land(0, 115);
    expect(times()).toEqual([
      [0, 15, 13],
      [1, 9, 7],
    ]);
    expect(updates.map((u) => [u.seq, u.numRows])).toEqual([
      [1, 10],
      [2, 20],
    ]);
  });

  it('publishes nothing for a submit with no batch appended, nor once stopped', async () => {
    const { publisher, updates, at, land } = setUp();
    publisher.submitted(); // nothing appended: no landing asked for
    publisher.appended(0, 10, 100);
    at(101);
    publisher.submitted();
    publisher.stop();
    await land(0, 105);
    await publisher.settled();
    expect(updates).toEqual([]);
  });
});
