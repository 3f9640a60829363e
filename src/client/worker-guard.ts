import { WorkerFailedError } from '../core/errors.js';

/**
 * Settles every pending call with `WORKER_FAILED` when the worker dies, and terminates it (a worker
 * with an uncaught error keeps running, holding its GPU device). Comlink alone would leave the calls
 * pending forever: it has no notion of a dead endpoint.
 */
export class WorkerGuard {
  readonly #worker: Worker;
  readonly #pending = new Set<(error: WorkerFailedError) => void>();
  #failure: WorkerFailedError | null = null;

  constructor(worker: Worker) {
    this.#worker = worker;
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

  /** Runs `call`, rejecting with `WORKER_FAILED` as soon as the worker dies. */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#pending.add(reject);
      call()
        .then(resolve, reject)
        .finally(() => this.#pending.delete(reject));
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

  #rejectAll(message: string): boolean {
    if (this.#failure) return false;
    this.#failure = new WorkerFailedError(message);
    for (const reject of this.#pending) reject(this.#failure);
    this.#pending.clear();
    return true;
  }
}
