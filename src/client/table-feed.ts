import type { TableSnapshot, TableUpdateMessage } from '../protocol.js';
import type { BatchLanded } from '../types.js';

/** How long the end of a load waits for updates still in flight before it settles anyway. */
const LATE_UPDATES_MS = 2000;

/**
 * The updates of one opened table as they come from the worker, in order. They travel on their own
 * channel, so they may arrive before the table exists (then they wait here), or after the snapshot
 * that answered `open` or `loaded` (then they only report their batches). Each batch is reported to
 * `onBatch` once, in order, after the table counts its rows.
 */
export class TableFeed {
  readonly #onBatch: ((landed: BatchLanded) => void) | undefined;
  readonly #waiting: TableUpdateMessage[] = [];
  #apply: ((update: TableUpdateMessage) => void) | null = null;
  #received = 0;
  #caughtUp: { seq: number; resolve: () => void } | null = null;

  constructor(onBatch?: (landed: BatchLanded) => void) {
    this.#onBatch = onBatch;
  }

  /** The function the worker calls with each update (through a Comlink proxy). */
  readonly receive = (update: TableUpdateMessage): void => {
    this.#received = Math.max(this.#received, update.seq);
    if (this.#apply) this.#deliver(update);
    else this.#waiting.push(update);
    if (this.#caughtUp && this.#received >= this.#caughtUp.seq) this.#caughtUp.resolve();
  };

  /** Starts applying updates to a table (those that came first, then each as it comes). */
  follow(apply: (update: TableUpdateMessage) => void): void {
    this.#apply = apply;
    for (const update of this.#waiting.splice(0)) this.#deliver(update);
  }

  /**
   * The final snapshot, once every update it includes has been delivered, so that `onBatch` has heard
   * of every batch when the load's end is reported. Should some never come, it settles anyway after a
   * while.
   */
  async ended(final: Promise<TableSnapshot>): Promise<TableSnapshot> {
    const snapshot = await final;
    const seq = snapshot.updates ?? 0;
    if (this.#received < seq) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#caughtUp = { seq, resolve };
        timer = setTimeout(resolve, LATE_UPDATES_MS);
      });
      clearTimeout(timer);
    }
    return snapshot;
  }

  #deliver(update: TableUpdateMessage): void {
    (this.#apply as (update: TableUpdateMessage) => void)(update);
    for (const landed of update.batches) {
      try {
        const { batch, rows, msFromLastByte, msOnGpu } = landed;
        this.#onBatch?.({ batch, rows, msFromLastByte, msOnGpu });
      } catch (error) {
        // The page's callback failing is the page's error: reported as uncaught, the feed goes on.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
