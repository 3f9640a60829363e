// The live-stream measurement, page side: a loader opens a stream that the server sends one batch at a
// time (e2e/live-route.ts), and the page notes when each batch's rows become visible to it.
import type * as Lib from '../src/index.js';

/** One live load as the page saw it. */
export interface LiveRun {
  /** Milliseconds from the `open` call to the first rows visible on the page (its first `onBatch`). */
  firstDataMs: number;
  /** The load's own `stats.msToFirstBatch` (worker side: first batch copied on the GPU). */
  msToFirstBatch: number;
  /** Per batch: milliseconds from the server handing its bytes to the socket to its `onBatch` on the page. */
  batchMs: number[];
  /**
   * Per batch, in the worker: milliseconds from the loader reading the last byte of its message to its
   * rows on the GPU (`onBatch`'s `msFromLastByte`); empty for a build without it.
   */
  lastByteToGpuMs: number[];
  /** The batch of each `lastByteToGpuMs` figure. */
  lastByteBatches: number[];
  /** Of each `lastByteToGpuMs` figure, the time from the copy's submission to the GPU's report (`msOnGpu`). */
  onGpuMs: number[];
  /**
   * Worker side: milliseconds from the load's start to the last byte of batch 0 read (`msToFirstBatch`
   * less batch 0's `msFromLastByte`), the wait for the first bytes; NaN for a build without the figures.
   */
  firstReadMs: number;
  /**
   * Milliseconds from the `open` call to the request's arrival at the server (wall clocks of one machine);
   * NaN where the server's log has none.
   */
  requestMs: number;
  /** Batch 0: handed to the server's socket → its `onBatch` on the page. */
  firstBatchMs: number;
}

/** Wall-clock milliseconds, comparable with the server's `performance.timeOrigin + now()`. */
const wallNow = () => performance.timeOrigin + performance.now();

/**
 * Opens the live stream at `url` (whose `id` is `id`) and times each batch from the server's log of when
 * it was sent. A build without `open` (to compare with one from before it) is timed through `load`'s
 * `onProgress` instead, by rows (`batchRows` a batch).
 */
export async function liveRun(
  loader: Lib.Loader,
  url: string,
  id: string,
  batchRows: number,
): Promise<LiveRun> {
  const landed = new Map<number, number>();
  const lastByteToGpuMs: number[] = [];
  const lastByteBatches: number[] = [];
  const onGpuMs: number[] = [];
  const t0 = performance.now();
  const openedAt = wallNow();
  let firstDataMs = -1;
  const land = (batch: number) => {
    if (landed.has(batch)) return;
    landed.set(batch, wallNow());
    if (firstDataMs < 0) firstDataMs = performance.now() - t0;
  };
  let table: Lib.GpuTable;
  if (typeof loader.open === 'function') {
    table = await loader.open(url, {
      onBatch: ({ batch, msFromLastByte, msOnGpu }) => {
        land(batch);
        if (typeof msFromLastByte !== 'number') return;
        lastByteToGpuMs.push(msFromLastByte);
        lastByteBatches.push(batch);
        onGpuMs.push(typeof msOnGpu === 'number' ? msOnGpu : Number.NaN);
      },
    });
    await table.done;
  } else {
    table = await (loader as Lib.Loader).load(url, {
      onProgress: ({ rows }) => {
        for (let batch = 0; (batch + 1) * batchRows <= rows; batch++) land(batch);
      },
    });
  }
  const log: { sent: number[]; requested?: number } = await (await fetch(`/live-log/${id}`)).json();
  // Group 0 is the schema; group k + 1 is batch k.
  const batchMs = [...landed].map(([batch, at]) => at - (log.sent[batch + 1] as number));
  const msToFirstBatch = table.stats.msToFirstBatch;
  await table.destroy();
  const first = lastByteBatches.indexOf(0);
  const firstReadMs = first < 0 ? Number.NaN : msToFirstBatch - (lastByteToGpuMs[first] as number);
  const requestMs = log.requested === undefined ? Number.NaN : log.requested - openedAt;
  const firstBatchMs = landed.has(0) ? (landed.get(0) as number) - (log.sent[1] as number) : Number.NaN;
  return {
    firstDataMs,
    msToFirstBatch,
    batchMs,
    lastByteToGpuMs,
    lastByteBatches,
    onGpuMs,
    firstReadMs,
    requestMs,
    firstBatchMs,
  };
}
