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
    if (this.#failure) return;
    this.#failure = new WorkerFailedError(message);
    this.#worker.terminate();
    for (const reject of this.#pending) reject(this.#failure);
    this.#pending.clear();
  }
}
