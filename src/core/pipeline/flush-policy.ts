import { arrivesWithin } from './async-utils.js';

/** Longest a batch waits in staging memory (or unflushed) while more keep coming. */
export const FLUSH_INTERVAL_MS = 8;

/** A pause in the stream this long submits what is pending. */
export const IDLE_FLUSH_MS = 2;

/**
 * When coalesced batches are submitted to the GPU: after the first batch (so that first data is not
 * late), every `FLUSH_INTERVAL_MS` unless no staging buffer would be free to go on with, and whenever
 * the next batch is slow to come. Small batches thus cost one GPU round trip per interval (or per round
 * trip, when the GPU is slower than that) rather than one each, and data never waits long on the CPU.
 * A `prompt` policy (a table read while it loads) also submits at once a batch with nothing behind it:
 * no byte of a next batch was read yet, so waiting could only delay its rows.
 */
export class FlushPolicy {
  #lastFlush = performance.now();
  #batches = 0;

  /** `prompt`: submit a batch that has nothing behind it at once (see `afterBatch`). */
  constructor(readonly prompt = false) {}

  /**
   * Whether to submit pending bytes before waiting for `next` (the next batch): never when `queued`
   * batches were waiting (the next one is there), else when it does not come within `IDLE_FLUSH_MS`.
   */
  async idleBefore(next: Promise<unknown>, pendingBytes: number, queued: number): Promise<boolean> {
    if (pendingBytes === 0 || queued > 0) return false;
    return !(await arrivesWithin(next, IDLE_FLUSH_MS));
  }

  /**
   * Whether to submit after a batch was appended. `wouldStall`: submitting now would leave the next
   * batch waiting for the GPU; the interval's submit then waits until a staging buffer is free (these
   * rows land up to one round trip later, and the batches after them do not wait). `alone`: no byte of
   * a next batch had been read when this one was taken; a prompt policy then submits at once, as the
   * next batch cannot share the submit without making these rows wait for it.
   */
  afterBatch(now: number, wouldStall = false, alone = false): boolean {
    this.#batches++;
    if (this.#batches === 1 || (this.prompt && alone)) return true;
    return now - this.#lastFlush >= FLUSH_INTERVAL_MS && !wouldStall;
  }

  /** Whether an interval has passed since the last submit (a submit held back by `wouldStall`). */
  overdue(now: number): boolean {
    return this.#batches > 0 && now - this.#lastFlush >= FLUSH_INTERVAL_MS;
  }

  /** Records a submission. */
  flushed(now: number): void {
    this.#lastFlush = now;
  }
}
