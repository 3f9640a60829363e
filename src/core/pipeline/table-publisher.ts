import type { ArrowGpuError } from '../errors.js';
import type { UploadedColumn } from '../gpu/upload/table-uploader.js';

/** A batch whose rows became visible: its index among the source's batches and the table's rows through it. */
export interface BatchLanded {
  batch: number;
  rows: number;
  /** Milliseconds from the loader reading the last byte of the batch's message to its rows published. */
  msFromLastByte: number;
  /** Of those, the milliseconds from the submit it was published after to its rows published (the GPU's share). */
  msOnGpu: number;
}

/** A batch appended and not yet published. */
interface AppendedBatch {
  batch: number;
  rows: number;
  /** When (`performance.now()`) the last byte of its message was read. */
  readAt: number;
}

/** What one flush made visible in a loading table. */
export interface TableUpdate {
  /** Updates of this table so far, this one included: 1, 2, … */
  seq: number;
  numRows: number;
  /** The batches whose rows this update made visible, in order. */
  batches: BatchLanded[];
  /** The columns as they now are (chunks, null counts, dictionary sizes). */
  columns: UploadedColumn[];
}

/** The state of the load that fills a table, while it runs and once it ended. */
export interface LiveLoad {
  /** Set when the load failed (or was cancelled): the table's buffers are then destroyed. */
  failure: ArrowGpuError | null;
  /** Whether the load has ended, either way. */
  ended: boolean;
  /** Updates published so far. */
  updates: number;
  /** Cancels the load (its buffers go, its end rejects with `ABORTED`); resolves once it has ended. */
  cancel(): Promise<void>;
}

/** The part of a table that updates change. */
export interface PublishedTable {
  numRows: number;
  columns: UploadedColumn[];
  live?: LiveLoad;
}

/**
 * Resolves once the device has done the writes submitted so far; rejects when one of them failed (a
 * device on another thread reports its writes' errors), so that their rows are never published.
 */
export type WorkLanded = () => Promise<unknown>;

/**
 * Makes the rows of a loading table visible once the GPU holds them: after each flush, the batches
 * appended before it are published together when the device has done the work submitted so far
 * (`landed`), in flush order. A query or read that the worker submits after that sees every published
 * row; once a write failed, nothing more is published.
 */
export class TablePublisher {
  readonly #table: PublishedTable;
  readonly #landed: WorkLanded;
  readonly #columns: (rows: number) => UploadedColumn[];
  readonly #onUpdate: ((update: TableUpdate) => void) | undefined;
  #appended: AppendedBatch[] = [];
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;
  #seq = 0;

  /** `columns(rows)` describes the columns holding `rows` rows; `onUpdate` hears of every update. */
  constructor(
    table: PublishedTable,
    landed: WorkLanded,
    columns: (rows: number) => UploadedColumn[],
    onUpdate?: (update: TableUpdate) => void,
  ) {
    this.#table = table;
    this.#landed = landed;
    this.#columns = columns;
    this.#onUpdate = onUpdate;
  }

  /**
   * Batch `batch` was appended (written, not yet submitted); the table then has `rows` rows. `readAt`:
   * when the last byte of its message was read (`performance.now()`).
   */
  appended(batch: number, rows: number, readAt: number): void {
    this.#appended.push({ batch, rows, readAt });
  }

  /** Everything appended so far has been submitted: it is published once the GPU has done it. */
  submitted(): void {
    const batches = this.#appended;
    if (batches.length === 0) return;
    this.#appended = [];
    const rows = (batches[batches.length - 1] as AppendedBatch).rows;
    const submittedAt = performance.now();
    const done = this.#landed();
    done.catch(() => {}); // awaited through the chain below
    this.#chain = this.#chain.then(() => done).then(() => this.#publish(rows, batches, submittedAt));
    this.#chain.catch(() => {}); // a lost device or a failed write fails the load elsewhere; settled() reports it
  }

  /** Resolves once every update submitted so far is published. */
  settled(): Promise<void> {
    return this.#chain;
  }

  /** Publishes nothing more (the load failed). */
  stop(): void {
    this.#stopped = true;
  }

  #publish(rows: number, appended: AppendedBatch[], submittedAt: number): void {
    if (this.#stopped) return;
    const now = performance.now();
    const batches = appended.map(({ batch, rows, readAt }) => ({
      batch,
      rows,
      msFromLastByte: now - readAt,
      msOnGpu: now - submittedAt,
    }));
    const columns = this.#columns(rows);
    this.#table.numRows = rows;
    this.#table.columns = columns;
    this.#seq++;
    if (this.#table.live) this.#table.live.updates = this.#seq;
    this.#onUpdate?.({ seq: this.#seq, numRows: rows, batches, columns });
  }
}
