import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PING_INTERVAL_MS, PING_TIMEOUT_MS } from '../../src/client/liveness.js';
import { WorkerGuard } from '../../src/client/worker-guard.js';
import { ColumnError, InternalError, WorkerFailedError } from '../../src/core/errors.js';

/**
 * Enough of a `Worker` for the guard: events, `postMessage` and `terminate`. It echoes every message
 * after `latencyMs`, unless it has exited (gone without an event); while it is busy, messages wait for
 * the end of the step, as in a worker's event loop during a long synchronous step.
 */
class FakeWorker extends EventTarget {
  terminated = false;
  exited = false;
  latencyMs = 5;
  busyUntil = 0;
  pings = 0;

  postMessage(data: unknown): void {
    this.pings++;
    setTimeout(() => this.#deliver(data), this.latencyMs);
  }

  #deliver(data: unknown): void {
    if (this.exited || this.terminated) return;
    const busyMs = this.busyUntil - Date.now();
    if (busyMs > 0) setTimeout(() => this.#deliver(data), busyMs);
    else this.dispatchEvent(new MessageEvent('message', { data }));
  }

  terminate(): void {
    this.terminated = true;
  }

  /** An uncaught error in the worker, as the page sees it. */
  crash(message: string): void {
    this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message }));
  }

  /** `self.close()`, or a kill for memory: no event, no more answers. */
  exit(): void {
    this.exited = true;
  }

  /** A synchronous step of `ms`: messages wait for its end. */
  busyFor(ms: number): void {
    this.busyUntil = Date.now() + ms;
  }
}

let nextPing = 0;

/** A ping over the fake worker's messages, as `remote.ping()` goes over Comlink's. */
function pingOver(worker: FakeWorker): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      const id = ++nextPing;
      const onMessage = (event: Event) => {
        if ((event as MessageEvent).data !== id) return;
        worker.removeEventListener('message', onMessage);
        resolve();
      };
      worker.addEventListener('message', onMessage);
      worker.postMessage(id);
    });
}

/** A guard over a fake worker; with `liveness`, it pings the worker. `stallMs` skews its clock. */
function guarded(liveness = false) {
  const worker = new FakeWorker();
  const clock = { stallMs: 0 };
  const guard = new WorkerGuard(
    worker as unknown as Worker,
    liveness ? { ping: pingOver(worker), now: () => Date.now() + clock.stallMs } : undefined,
  );
  return { worker, guard, clock };
}

const never = () => new Promise<never>(() => {});
const valueAfter = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

/** How a call settled, and when (fake time). */
function watch<T>(call: Promise<T>) {
  const outcome: { settled: boolean; value?: T; error?: unknown; at?: number } = { settled: false };
  call.then(
    (value) => Object.assign(outcome, { settled: true, value, at: Date.now() }),
    (error: unknown) => Object.assign(outcome, { settled: true, error, at: Date.now() }),
  );
  return outcome;
}

/** The guard has answered its first ping: silence counts from now on. */
async function warmUp(worker: FakeWorker): Promise<void> {
  await vi.advanceTimersByTimeAsync(worker.latencyMs + 1);
}

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

  it('passes results and library errors of a live worker through unchanged, and makes anything else INTERNAL', async () => {
    const { guard } = guarded();
    await expect(guard.run(async () => 42)).resolves.toBe(42);
    const library = new ColumnError('NO_SUCH_COLUMN', 'no such column', { column: 'x' });
    await expect(guard.run(() => Promise.reject(library))).rejects.toBe(library);
    const own = new RangeError('from the call');
    const internal = await guard.run(() => Promise.reject(own)).catch((e: unknown) => e);
    expect(internal).toBeInstanceOf(InternalError);
    expect((internal as InternalError).message).toContain('RangeError: from the call');
    expect((internal as InternalError).cause).toBe(own);
    expect(guard.failure).toBeNull();
  });

  it.each([
    ['an Error', new TypeError('Proxy has been released')],
    ['a string', 'thrown as is'],
    ['undefined', undefined],
  ])(
    'a call that throws %s synchronously rejects (as INTERNAL) and leaves nothing pending',
    async (_, thrown) => {
      const { guard } = guarded(true);
      const call = guard.run(() => {
        throw thrown;
      });
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InternalError);
      expect((error as InternalError).cause).toBe(thrown);
      expect(guard.pendingCalls).toBe(0);
      expect(guard.pinging).toBe(false);
      // Failing the worker afterwards has nothing left to reject.
      guard.fail('later');
      expect(guard.pendingCalls).toBe(0);
    },
  );

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

  it('tells its failure listeners once, with the failure, before any pending call rejects', async () => {
    const { worker, guard } = guarded();
    const events: string[] = [];
    const pending = guard.run(never).catch(() => events.push('call rejected'));
    guard.onFail((error) => events.push(`listener: ${error.code} ${error.message}`));
    worker.crash('Uncaught Error: boom');
    worker.crash('Uncaught Error: again');
    await pending;
    expect(events).toEqual([
      'listener: WORKER_FAILED The arrow-webgpu worker failed: Uncaught Error: boom',
      'call rejected',
    ]);
  });

  it('on close terminates the worker even when its teardown never answers', async () => {
    const { worker, guard } = guarded();
    await guard.close('closed', never, 20);
    expect(worker.terminated).toBe(true);
  });
});

describe('WorkerGuard liveness', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.clearAllTimers();
    vi.useRealTimers();
  });

  it('finds a dead worker within 1.5 s (2 s promised, the rest for late timers) and gives a busy one 1 s or more', () => {
    expect(PING_INTERVAL_MS + PING_TIMEOUT_MS).toBeLessThanOrEqual(1500);
    expect(PING_TIMEOUT_MS).toBeGreaterThanOrEqual(1000);
  });

  it('fails every pending call with WORKER_FAILED within interval + timeout of a silent exit, whenever it happens, and terminates the worker', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 50 }),
        async (exitAt, latency) => {
          vi.clearAllTimers();
          const { worker, guard } = guarded(true);
          worker.latencyMs = latency;
          const calls = [watch(guard.run(never)), watch(guard.run(never))];
          await warmUp(worker);
          await vi.advanceTimersByTimeAsync(exitAt);
          const exitedAt = Date.now();
          worker.exit();
          await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS + PING_TIMEOUT_MS + 1);
          for (const call of calls) {
            expect(call.error).toBeInstanceOf(WorkerFailedError);
            expect((call.error as Error).message).toMatch(/stopped answering/);
            const ms = (call.at as number) - exitedAt;
            expect(ms).toBeGreaterThanOrEqual(PING_TIMEOUT_MS - latency);
            expect(ms).toBeLessThanOrEqual(PING_INTERVAL_MS + PING_TIMEOUT_MS);
          }
          expect(worker.terminated).toBe(true);
          expect(guard.pinging).toBe(false);
          expect(vi.getTimerCount()).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('does not declare a worker dead during a synchronous step shorter than the timeout, wherever it falls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: PING_TIMEOUT_MS - 10 }),
        async (busyAt, busyMs) => {
          vi.clearAllTimers();
          const { worker, guard } = guarded(true);
          const call = watch(guard.run(() => valueAfter(busyAt + busyMs + 3000, 'done')));
          await warmUp(worker);
          await vi.advanceTimersByTimeAsync(busyAt);
          worker.busyFor(busyMs);
          await vi.advanceTimersByTimeAsync(busyMs + 3000);
          expect(call).toMatchObject({ settled: true, value: 'done' });
          expect(worker.terminated).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each([
    { stepMs: PING_TIMEOUT_MS - 50, dead: false },
    { stepMs: PING_INTERVAL_MS + PING_TIMEOUT_MS + 50, dead: true },
  ])('a synchronous step of $stepMs ms: declared dead = $dead', async ({ stepMs, dead }) => {
    const { worker, guard } = guarded(true);
    const call = watch(guard.run(() => valueAfter(stepMs + 500, 'done')));
    await warmUp(worker);
    worker.busyFor(stepMs);
    await vi.advanceTimersByTimeAsync(stepMs + 1000);
    expect(call.error instanceof WorkerFailedError).toBe(dead);
    expect(worker.terminated).toBe(dead);
  });

  it.each([
    { stallMs: 0, dead: true },
    { stallMs: 3000, dead: false },
  ])(
    'a deadline that fires $stallMs ms late (the page was blocked) looks again one interval later: dead = $dead',
    async ({ stallMs, dead }) => {
      const { worker, guard, clock } = guarded(true);
      const call = watch(guard.run(() => valueAfter(10_000, 'done')));
      await warmUp(worker);
      // The next answer is queued for just past its deadline, as one is behind a blocked page's timers.
      worker.busyFor(PING_INTERVAL_MS + PING_TIMEOUT_MS + 50);
      await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS + PING_TIMEOUT_MS - 20);
      clock.stallMs = stallMs;
      await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS + 200);
      expect(call.error instanceof WorkerFailedError).toBe(dead);
    },
  );

  it('does not count silence before the first answer: the worker may still be loading its script', async () => {
    const { worker, guard } = guarded(true);
    worker.busyFor(10_000);
    const call = watch(guard.run(() => valueAfter(12_000, 'loaded')));
    await vi.advanceTimersByTimeAsync(9_000);
    expect(call.settled).toBe(false);
    expect(worker.pings).toBe(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(call).toMatchObject({ settled: true, value: 'loaded' });
    // Once it answered, silence counts.
    const next = watch(guard.run(never));
    worker.exit();
    await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS + PING_TIMEOUT_MS);
    expect(next.error).toBeInstanceOf(WorkerFailedError);
  });

  it('pings only while calls are pending: an idle, failed or closed guard leaves no timer running', async () => {
    const { worker, guard } = guarded(true);
    expect(guard.pinging).toBe(false);
    const first = guard.run(() => valueAfter(1000, 1));
    const second = guard.run(() => valueAfter(2000, 2));
    expect(guard.pinging).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await first).toBe(1);
    expect(guard.pinging).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await second).toBe(2);
    expect(guard.pinging).toBe(false);
    await vi.advanceTimersByTimeAsync(worker.latencyMs);
    expect(vi.getTimerCount()).toBe(0);
    const pingsWhenIdle = worker.pings;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(worker.pings).toBe(pingsWhenIdle);

    const pending = watch(guard.run(never));
    expect(guard.pinging).toBe(true);
    const closing = guard.close('closed', async () => {});
    await vi.advanceTimersByTimeAsync(worker.latencyMs);
    await closing;
    expect(pending.error).toBeInstanceOf(WorkerFailedError);
    expect(guard.pinging).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('with calls starting and ending at random, pings exactly while some are pending, and every call keeps its own result', async () => {
    const call = fc.record({
      startMs: fc.integer({ min: 0, max: 3000 }),
      ms: fc.integer({ min: 0, max: 2000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 8 }), async (calls) => {
        vi.clearAllTimers();
        const { worker, guard } = guarded(true);
        const outcomes = calls.map(({ startMs, ms }, i) => {
          const outcome: { result?: ReturnType<typeof watch<number>> } = {};
          setTimeout(() => {
            outcome.result = watch(guard.run(() => valueAfter(ms, i)));
          }, startMs);
          return outcome;
        });
        for (let t = 0; t <= 5000; t += 50) {
          await vi.advanceTimersByTimeAsync(50);
          expect(guard.pinging).toBe(guard.pendingCalls > 0);
        }
        outcomes.forEach((outcome, i) => {
          expect(outcome.result).toMatchObject({ settled: true, value: i });
        });
        await vi.advanceTimersByTimeAsync(worker.latencyMs);
        expect(vi.getTimerCount()).toBe(0);
        expect(worker.terminated).toBe(false);
      }),
      { numRuns: 30 },
    );
  });
});
