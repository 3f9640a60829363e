import { asArrowGpuError, WorkerFailedError } from '../core/errors.js';
import { Liveness, type LivenessOptions } from './liveness.js';

/** Runs a table's calls: through the worker (a `WorkerGuard`), or on this thread for a caller's device. */
export interface CallRunner {
  /** Runs `call`; a rejection is an `ArrowGpuError`. */
  run<T>(call: () => Promise<T>): Promise<T>;
}

/**
 * Settles every pending call with `WORKER_FAILED` when the worker dies, and terminates it (a worker
 * with an uncaught error keeps running, holding its GPU device). Comlink alone would leave the calls
 * pending forever: it has no notion of a dead endpoint. A worker can also vanish without any event
 * (`self.close()`, killed for memory): with `liveness`, it is pinged while calls are pending.
 */
export class WorkerGuard implements CallRunner {
  readonly #worker: Worker;
  readonly #pending = new Set<(error: WorkerFailedError) => void>();
  readonly #onFail: Array<(error: WorkerFailedError) => void> = [];
  readonly #liveness: Liveness | null;
  #failure: WorkerFailedError | null = null;

  constructor(worker: Worker, liveness?: LivenessOptions) {
    this.#worker = worker;
    this.#liveness = liveness ? new Liveness(liveness, (silentMs) => this.#silent(silentMs)) : null;
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.fail(
        `The arrow-webgpu worker failed: ${event.message || 'uncaught error (or the script did not load)'}`,
      );
    });
    worker.addEventListener('messageerror', () =>
      this.fail('The arrow-webgpu worker sent a message that could not be read'),
    );
  }

  /** The failure, once there was one. */
  get failure(): WorkerFailedError | null {
    return this.#failure;
  }

  /** Calls in flight. */
  get pendingCalls(): number {
    return this.#pending.size;
  }

  /** Whether the worker is being pinged (only while calls are pending). */
  get pinging(): boolean {
    return this.#liveness?.running ?? false;
  }

  /**
   * Calls `listener` once when the worker is marked dead (or the loader closed), before the rejection
   * of any pending call reaches its caller: what this thread holds for the worker's loads goes first.
   */
  onFail(listener: (error: WorkerFailedError) => void): void {
    this.#onFail.push(listener);
  }

  /** Runs `call`, rejecting with `WORKER_FAILED` as soon as the worker dies. */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#track(reject);
      // A call that throws synchronously rejects as one that rejects does, and leaves nothing pending;
      // whatever it throws reaches the caller as an ArrowGpuError (INTERNAL if it is no library error).
      new Promise<T>((settle) => settle(call()))
        .then(resolve, (error: unknown) => reject(asArrowGpuError(error)))
        .finally(() => this.#untrack(reject));
    });
  }

  /** Terminates the worker, marks it dead and rejects every pending call. */
  fail(message: string): void {
    if (this.#rejectAll(message)) this.#worker.terminate();
  }

  /**
   * Ends the worker on purpose: pending calls reject with `WORKER_FAILED` at once (not with whatever the
   * teardown makes of them), then `teardown` runs for at most `graceMs` before the worker is terminated.
   */
  async close(message: string, teardown: () => Promise<void>, graceMs = 2000): Promise<void> {
    if (!this.#rejectAll(message)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([teardown(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    } catch {
      // The worker is terminated below whatever the teardown did.
    } finally {
      clearTimeout(timer);
      this.#worker.terminate();
    }
  }

  #silent(silentMs: number): void {
    this.fail(
      `The arrow-webgpu worker stopped answering (no reply for ${Math.round(silentMs)} ms): ` +
        'it closed itself, was killed (for memory, say) or is stuck',
    );
  }

  #track(reject: (error: WorkerFailedError) => void): void {
    this.#pending.add(reject);
    if (this.#pending.size === 1) this.#liveness?.start();
  }

  /** An idle loader keeps no timer running. */
  #untrack(reject: (error: WorkerFailedError) => void): void {
    if (this.#pending.delete(reject) && this.#pending.size === 0) this.#liveness?.stop();
  }

  #rejectAll(message: string): boolean {
    if (this.#failure) return false;
    this.#liveness?.stop();
    this.#failure = new WorkerFailedError(message);
    for (const listener of this.#onFail.splice(0)) {
      try {
        listener(this.#failure);
      } catch (error) {
        // A listener's fault is reported as uncaught; the pending calls still reject.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    for (const reject of this.#pending) reject(this.#failure);
    this.#pending.clear();
    return true;
  }
}
