import { describe, expect, it } from 'vitest';
import { WorkerGuard } from '../../src/client/worker-guard.js';
import { WorkerFailedError } from '../../src/core/errors.js';

/** Enough of a `Worker` for the guard: events and `terminate`. */
class FakeWorker extends EventTarget {
  terminated = false;
  terminate(): void {
    this.terminated = true;
  }
  /** An uncaught error in the worker, as the page sees it. */
  crash(message: string): void {
    this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message }));
  }
}

function guarded() {
  const worker = new FakeWorker();
  return { worker, guard: new WorkerGuard(worker as unknown as Worker) };
}

const never = () => new Promise<never>(() => {});

describe('WorkerGuard', () => {
  it('rejects every pending call with WORKER_FAILED naming the error once the worker fails, and terminates it', async () => {
    const { worker, guard } = guarded();
    const pending = [guard.run(never), guard.run(never)];
    worker.crash('Uncaught Error: boom');
    for (const call of pending) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerFailedError);
      expect((error as WorkerFailedError).code).toBe('WORKER_FAILED');
      expect((error as Error).message).toContain('boom');
    }
    expect(worker.terminated).toBe(true);
  });

  it('rejects calls made after the failure at once, without running them', async () => {
    const { guard } = guarded();
    guard.fail('terminated');
    let ran = false;
    const error = await guard
      .run(async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerFailedError);
    expect(ran).toBe(false);
  });

  it('passes results and errors of a live worker through unchanged', async () => {
    const { guard } = guarded();
    await expect(guard.run(async () => 42)).resolves.toBe(42);
    const own = new RangeError('from the call');
    await expect(guard.run(() => Promise.reject(own))).rejects.toBe(own);
    expect(guard.failure).toBeNull();
  });

  it('on close rejects pending calls with WORKER_FAILED before the teardown runs, then terminates the worker', async () => {
    const { worker, guard } = guarded();
    let settled: unknown = null;
    const pending = guard.run(never).catch((e: unknown) => {
      settled = e;
    });
    let settledBeforeTeardown: unknown = null;
    let terminatedDuringTeardown = true;
    await guard.close('The loader was closed', async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      settledBeforeTeardown = settled;
      terminatedDuringTeardown = worker.terminated;
    });
    await pending;
    expect(settledBeforeTeardown).toBeInstanceOf(WorkerFailedError);
    expect((settledBeforeTeardown as Error).message).toBe('The loader was closed');
    expect(terminatedDuringTeardown).toBe(false);
    expect(worker.terminated).toBe(true);
  });

  it('on close terminates the worker even when its teardown never answers', async () => {
    const { worker, guard } = guarded();
    await guard.close('closed', never, 20);
    expect(worker.terminated).toBe(true);
  });
});
