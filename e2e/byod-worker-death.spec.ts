import type * as Lib from '../src/index.js';
import type { ColumnDigest } from './pages/harness.js';
import { expect, expectedColumns, fixtureRows, test } from './support.js';

// A loader given the page's own GPUDevice whose worker dies while it loads from servers that hold their
// batches back (e2e/live-route.ts): the worker is the test worker (e2e/pages/test.worker.ts), made to
// crash or to vanish with no event (then only its unanswered pings tell). Every buffer made on the page's
// device is tracked by wrapping device.createBuffer, and every GPU error no scope caught is collected.

/** What one death did, as the page saw it. */
interface Outcome {
  load: { code: string | null; message: string | null };
  done: { code: string | null };
  /** Buffers of the two loads in flight alive when their rejections were handled: none may be. */
  aliveAtLoadRejection: number;
  aliveAtDoneRejection: number;
  /** Buffers the two loads had made on the page's device before the death. */
  madeBeforeDeath: number;
  /** Chunks the opened table's columns still hand out once its `done` rejected. */
  openedBuffersAfter: number;
  finishedDigests: ColumnDigest[];
  finishedBuffersAlive: boolean;
  finishedDescribeRows: number;
  later: string | null;
  memoryBeforeDestroy: number;
  liveAfterDestroy: number;
  memoryAfterDestroy: number;
  closed: boolean;
  gpuErrors: string[];
}

for (const how of ['crashes', 'stops answering'] as const) {
  test(`on the page device, a worker that ${how} mid-load fails the load and the filling table with WORKER_FAILED, destroys their buffers at once, and leaves a loaded table usable`, async ({
    harnessPage,
  }) => {
    const fixture = 'many-batches.stream';
    const result: Outcome = await harnessPage.evaluate(
      async ({ how, fixture }) => {
        const adapter = await navigator.gpu.requestAdapter();
        if (!adapter) throw new Error('WebGPU returned no adapter');
        const device = await adapter.requestDevice();
        const gpuErrors: string[] = [];
        device.addEventListener('uncapturederror', (event) => gpuErrors.push(event.error.message));
        const live = new Set<GPUBuffer>();
        const create = device.createBuffer.bind(device);
        device.createBuffer = (descriptor) => {
          const buffer = create(descriptor);
          live.add(buffer);
          const destroy = buffer.destroy.bind(buffer);
          buffer.destroy = () => {
            live.delete(buffer);
            destroy();
          };
          return buffer;
        };
        const { settle, testLoader, readAll } = window.harness;
        const hooks = await testLoader({ device });
        const loader = hooks.loader as Lib.DeviceLoader;

        const finished = await loader.load(`/data/${fixture}`);
        const finishedBuffers = finished.columns.flatMap((c) => [
          ...c.buffers.values.map((b) => b.buffer),
          ...(c.buffers.validity ?? []).map((b) => b.buffer),
        ]);
        const before = new Set(live);
        const newlyAlive = () => [...live].filter((b) => !before.has(b)).length;

        // Two loads in flight on servers that send the schema and two batches, then hold the rest back.
        const id = `death-${Math.random()}`;
        const load = loader.load(`/live/big-16.stream?id=${id}-load&first=3`);
        let aliveAtLoadRejection = -1;
        const loadSettled = settle(
          load.catch((error: unknown) => {
            aliveAtLoadRejection = newlyAlive();
            throw error;
          }),
        );
        let filled = () => {};
        const filling = new Promise<void>((resolve) => (filled = resolve));
        const opened = await loader.open(`/live/${fixture}?id=${id}-open&first=3`, {
          onBatch: () => filled(),
        });
        let aliveAtDoneRejection = -1;
        const doneSettled = settle(
          opened.done.catch((error: unknown) => {
            aliveAtDoneRejection = newlyAlive();
            throw error;
          }),
        );
        await filling;
        // The load is in flight once its buffers are on the page's device (its progress is throttled, so
        // it may not report a batch while the server holds the rest back).
        const ofOpened = new Set(
          opened.columns.flatMap((c) =>
            [...c.buffers.values, ...(c.buffers.validity ?? [])].map((b) => b.buffer),
          ),
        );
        const ofLoad = () => [...live].filter((b) => !before.has(b) && !ofOpened.has(b)).length;
        for (let waited = 0; ofLoad() === 0; waited += 20) {
          if (waited > 20_000) throw new Error('the load made no buffer on the page device in 20 s');
          await new Promise((r) => setTimeout(r, 20));
        }
        const madeBeforeDeath = newlyAlive();

        if (how === 'crashes') void hooks.crash();
        else hooks.exit();
        const [loaded, done] = await Promise.all([loadSettled, doneSettled]);

        const finishedDigests = await readAll(finished);
        const summary = await finished.describe('i32');
        const later = await settle(loader.load(`/data/${fixture}`));
        const memoryBeforeDestroy = (await loader.memory()).liveBuffers;
        const finishedBuffersAlive = finishedBuffers.every((b) => live.has(b));
        await finished.destroy();
        const liveAfterDestroy = live.size;
        const memoryAfterDestroy = (await loader.memory()).liveBuffers;
        const closed = (await settle(loader.close())).ok;
        // Errors the device reports come back asynchronously: give them a moment to arrive.
        await device.queue.onSubmittedWorkDone();
        await new Promise((r) => setTimeout(r, 100));
        device.destroy();
        return {
          load: { code: loaded.code, message: loaded.message },
          done: { code: done.code },
          aliveAtLoadRejection,
          aliveAtDoneRejection,
          madeBeforeDeath,
          openedBuffersAfter: opened.columns.reduce((n, c) => n + c.buffers.values.length, 0),
          finishedDigests,
          finishedBuffersAlive,
          finishedDescribeRows: summary.rows,
          later: later.code,
          memoryBeforeDestroy,
          liveAfterDestroy,
          memoryAfterDestroy,
          closed,
          gpuErrors,
        };
      },
      { how, fixture },
    );
    expect(result.load.code, result.load.message ?? '').toBe('WORKER_FAILED');
    expect(result.load.message).toMatch(
      how === 'crashes' ? /crash requested by a test/ : /stopped answering/,
    );
    expect(result.done.code).toBe('WORKER_FAILED');
    // The loads had made buffers on the page's device; none was alive when their rejections were handled.
    expect(result.madeBeforeDeath).toBeGreaterThan(1);
    expect(result.aliveAtLoadRejection).toBe(0);
    expect(result.aliveAtDoneRejection).toBe(0);
    expect(result.openedBuffersAfter).toBe(0);
    // The table loaded before the death still holds the source, on the page's device, with no worker.
    expect(result.finishedDigests).toEqual(expectedColumns(fixture));
    expect(result.finishedBuffersAlive).toBe(true);
    expect(result.finishedDescribeRows).toBe(fixtureRows(fixture));
    expect(result.later).toBe('WORKER_FAILED');
    expect(result.memoryBeforeDestroy).toBeGreaterThan(0);
    expect(result.liveAfterDestroy).toBe(0);
    expect(result.memoryAfterDestroy).toBe(0);
    expect(result.closed).toBe(true);
    expect(result.gpuErrors).toEqual([]);
  });
}
