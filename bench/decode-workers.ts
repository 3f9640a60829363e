// `npm run bench:node -- --decode-workers 1,2,4,8`: end-to-end loads with each number of decode workers
// (1: decoded on the loader's thread), interleaved with the raw staging-ring ceiling measured in the same
// run, median of the repetitions. GB/s are bytes of the file a second; "of ring" is the ring's time for
// the same GPU bytes over the load's time. A second ring line makes its destination within its time, as
// four buffers (one a column), to show what making a table's buffers adds. "loader busy" is the share of
// the time the loader's thread was not waiting (Node's event loop utilization), "gc ms" its collections.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { LoaderService } from '../src/core/service/loader-service.js';
import { stagingCeiling } from './ceilings.js';
import { orderFor } from './run-order.js';

/** What the decode-workers run needs from bench/node.ts. */
export interface DecodeWorkersBench {
  service: LoaderService;
  device: GPUDevice;
  path: string;
  fileBytes: number;
  gpuBytes: number;
  /**
   * Makes the ring's source, the GPU bytes' size: made for each ring line and dropped after it, so that
   * the loads do not run beside a gigabyte of the benchmark's own memory on their thread.
   */
  source: () => Uint8Array;
  counts: readonly number[];
  reps: number;
  out: string;
  /**
   * Also loads each count with the loader's thread reading every body (bodies not left to the
   * workers), through this switch of the file source: `true` lets workers read them.
   */
  workersReadBodies?: (on: boolean) => void;
  /**
   * Also loads each count with the decode workers sending every column's words (none read from the
   * file straight into staging memory), through this switch of the file source: `true` reads them.
   */
  readsIntoStaging?: (on: boolean) => void;
}

/** How a load's bytes are read: the default, or with one of the file source's abilities switched off. */
type Reads = 'default' | 'loader-reads' | 'no-staging-reads';

interface Row {
  variant: string;
  ms: number[];
  /** Share of each run's time the loader's thread was busy (its event loop not waiting). */
  busy: number[];
  /** Milliseconds of each run spent in the loader thread's garbage collections. */
  gc: number[];
}

/** Sums this thread's garbage-collection pauses from now until `stop`; `read` gives the sum so far. */
function gcClock() {
  let total = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) total += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    /** Milliseconds collected so far (entries arrive after their pause, so read it after a turn). */
    async read(): Promise<number> {
      await new Promise((resolve) => setImmediate(resolve));
      return total;
    },
    stop: () => observer.disconnect(),
  };
}

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const RING_NAMES: Record<string, string> = {
  ring: 'staging ring (ceiling)',
  'ring+buffers': 'staging ring, its 4 buffers made in the time',
};

const READS_NAMES: Record<Reads, string> = {
  default: '',
  'loader-reads': ', bodies read by the loader',
  'no-staging-reads': ', no words read into staging',
};

/** `workers:4` → "4 decode worker(s)", and how the bytes were read when not by default. */
function variantName(variant: string): string {
  const [, count, reads] = variant.split(':');
  return `${count} decode worker(s)${READS_NAMES[(reads ?? 'default') as Reads]}`;
}

/** Runs every worker count and the ring ceiling `reps` times, in `runOrder`'s order each repetition. */
export async function runDecodeWorkersBench(bench: DecodeWorkersBench): Promise<void> {
  const pooled = bench.counts.filter((n) => n > 1);
  const loaderReads = bench.workersReadBodies ? pooled.map((n) => `workers:${n}:loader-reads`) : [];
  const noStaging = bench.readsIntoStaging ? pooled.map((n) => `workers:${n}:no-staging-reads`) : [];
  const variants = [
    ...['ring', 'ring+buffers', ...bench.counts.map((n) => `workers:${n}`)],
    ...[...loaderReads, ...noStaging],
  ];
  const rows = new Map<string, Row>(variants.map((v) => [v, { variant: v, ms: [], busy: [], gc: [] }]));
  let loadId = 1;
  const load = async (decodeWorkers: number, reads: Reads = 'default') => {
    bench.workersReadBodies?.(reads !== 'loader-reads');
    bench.readsIntoStaging?.(reads !== 'no-staging-reads');
    const request = { loadId: loadId++, url: bench.path, upload: 'staging' as const, decodeWorkers };
    const table = await bench.service.load(request);
    await bench.service.destroyTable(table.tableId);
    const { fetchWaitMs, decodeMs, encodeMs, gpuWaitMs } = table.stats.stages;
    const stages = [fetchWaitMs, decodeMs, encodeMs, gpuWaitMs].map((ms) => ms.toFixed(0)).join('/');
    const byWorkers = (table.stats.bytesReadByWorkers / 2 ** 20).toFixed(0);
    const intoStaging = (table.stats.bytesReadIntoStaging / 2 ** 20).toFixed(0);
    console.log(
      `  stages fetch wait/decode (all workers)/encode/gpu wait: ${stages} ms; ${byWorkers} MiB read by workers, ${intoStaging} MiB into staging`,
    );
    return table.stats.msTotal;
  };
  // Not timed: starts the most workers any count needs (a loader keeps them), and warms the ring.
  const most = Math.max(...bench.counts);
  console.log(`warm-up with ${most} decode workers: ${(await load(most)).toFixed(0)} ms`);
  const gc = gcClock();
  for (let rep = 0; rep < bench.reps; rep++) {
    for (const variant of orderFor(variants, rep)) {
      let ms: number;
      const loop = performance.eventLoopUtilization();
      const gcBefore = await gc.read();
      if (variant === 'ring') ms = await stagingCeiling(bench.device, bench.source(), bench.gpuBytes);
      else if (variant === 'ring+buffers')
        ms = await stagingCeiling(bench.device, bench.source(), bench.gpuBytes, 4);
      else {
        const [, count, reads] = variant.split(':');
        ms = await load(Number(count), (reads ?? 'default') as Reads);
      }
      const busy = performance.eventLoopUtilization(loop).utilization;
      const gcMs = (await gc.read()) - gcBefore;
      (rows.get(variant) as Row).gc.push(gcMs);
      (rows.get(variant) as Row).ms.push(ms);
      (rows.get(variant) as Row).busy.push(busy);
      const bytes = variant.startsWith('ring') ? bench.gpuBytes : bench.fileBytes;
      const gbs = (bytes / 1e6 / ms).toFixed(2);
      console.log(
        `rep ${rep} ${variant}: ${ms.toFixed(0)} ms, ${gbs} GB/s, loader thread busy ${busy.toFixed(2)}, collecting ${gcMs.toFixed(0)} ms`,
      );
    }
  }
  gc.stop();
  const ring = median((rows.get('ring') as Row).ms);
  const table = [...rows.values()].map((row) => {
    const ms = median(row.ms);
    const bytes = row.variant.startsWith('ring') ? bench.gpuBytes : bench.fileBytes;
    return {
      variant: RING_NAMES[row.variant] ?? variantName(row.variant),
      'median ms': Math.round(ms),
      'GB/s': Number((bytes / 1e6 / ms).toFixed(2)),
      'of ring': Number((ring / ms).toFixed(2)),
      'loader busy': Number(median(row.busy).toFixed(2)),
      'gc ms': Math.round(median(row.gc)),
    };
  });
  console.table(table);
  await mkdir(bench.out, { recursive: true });
  await writeFile(
    join(bench.out, 'node-decode-workers.json'),
    `${JSON.stringify({ date: new Date().toISOString(), reps: bench.reps, fileBytes: bench.fileBytes, gpuBytes: bench.gpuBytes, rows: [...rows.values()], table }, null, 2)}\n`,
  );
}
