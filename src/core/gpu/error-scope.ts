import { type ErrorDetails, GpuError } from '../errors.js';

/** A WebGPU error caught by a scope, tagged by the scope that caught it. */
export interface ScopedGpuError {
  kind: 'out-of-memory' | 'validation';
  message: string;
}

/**
 * Runs `work` — synchronous GPU calls only — inside an out-of-memory and a validation error scope, and
 * returns its result with the first error those calls raised (or `null`). Without a scope a failed
 * `copyBufferToBuffer` or `submit` is silent and the buffer it should have filled stays zero. Scopes are
 * pushed and popped in one task, so loads that share the device never interleave them.
 */
export function withErrorScope<T>(
  device: GPUDevice,
  work: () => T,
): { result: T; error: Promise<ScopedGpuError | null> } {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let outcome: { ok: true; value: T } | { ok: false; thrown: unknown };
  try {
    outcome = { ok: true, value: work() };
  } catch (thrown) {
    outcome = { ok: false, thrown };
  }
  // Popped whatever `work` did, so that the device's scope stack stays balanced.
  const validation = device.popErrorScope();
  const oom = device.popErrorScope();
  const error = Promise.all([validation, oom]).then(([v, o]): ScopedGpuError | null => {
    if (o) return { kind: 'out-of-memory', message: o.message };
    if (v) return { kind: 'validation', message: v.message };
    return null;
  });
  if (!outcome.ok) {
    error.catch(() => {});
    throw outcome.thrown;
  }
  return { result: outcome.value, error };
}

/** The library error for a WebGPU error raised while doing `what`. */
export function gpuFailure(error: ScopedGpuError, what: string, details: ErrorDetails = {}): GpuError {
  const oom = error.kind === 'out-of-memory';
  return new GpuError(
    oom ? 'GPU_OUT_OF_MEMORY' : 'GPU_VALIDATION',
    `${what} failed on the GPU (${oom ? 'out of memory' : 'validation error'}): ${error.message}`,
    details,
  );
}

/** Resolves when `error` resolves to `null`; rejects with the library error for `what` otherwise. */
export async function rejectOnGpuError(
  error: Promise<ScopedGpuError | null>,
  what: string,
  details: ErrorDetails = {},
): Promise<void> {
  const failure = await error;
  if (failure) throw gpuFailure(failure, what, details);
}

/**
 * Collects the error scopes of GPU work whose outcome nobody awaits at once (copies, writes, submits),
 * so that the first failure stops the load at its next step and `settle()` reports it at the end.
 */
export class GpuErrorWatch {
  readonly #device: GPUDevice;
  /** Checks not answered yet, by `seq`. */
  readonly #pending = new Map<number, Promise<void>>();
  /** The failure of the earliest work that failed, by the order the work was done (`seq`). */
  #failure: { seq: number; error: GpuError } | null = null;
  #seq = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Runs `work` (synchronous GPU calls) in an error scope whose error, if any, is reported as `what`. */
  run<T>(what: string, details: ErrorDetails, work: () => T): T {
    const { result, error } = withErrorScope(this.#device, work);
    this.#follow(error.then((failure) => (failure ? gpuFailure(failure, what, details) : null)));
    return result;
  }

  /**
   * Follows GPU work checked elsewhere (a buffer's creation, whose buffer is used before the device has
   * answered): its `GpuError` is reported as `run`'s are, ahead of the failures of work done after it
   * (a write into a buffer the device refused fails too, less tellingly).
   */
  track(check: Promise<unknown>): void {
    this.#follow(
      check.then(
        () => null,
        (error: unknown) => {
          if (error instanceof GpuError) return error;
          throw error;
        },
      ),
    );
  }

  /**
   * Throws the failure of the earliest work that failed, once no work before it is still unanswered (it
   * might have failed too, and say better why).
   */
  throwIfFailed(): void {
    const failure = this.#failure;
    if (!failure) return;
    for (const seq of this.#pending.keys()) if (seq < failure.seq) return;
    throw failure.error;
  }

  /** Waits for every scope opened so far (not those opened later); throws the first GPU error seen by then. */
  async settle(): Promise<void> {
    await Promise.all(this.#pending.values());
    this.throwIfFailed();
  }

  #follow(outcome: Promise<GpuError | null>): void {
    const seq = this.#seq++;
    const check: Promise<void> = outcome.then(
      (error) => {
        if (error && (!this.#failure || seq < this.#failure.seq)) this.#failure = { seq, error };
        this.#pending.delete(seq);
      },
      () => {
        this.#pending.delete(seq); // the device is gone: its loss is reported instead
      },
    );
    this.#pending.set(seq, check);
  }
}
