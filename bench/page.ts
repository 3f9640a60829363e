// Benchmark page: runs one variant at a time when bench/run.ts asks, with main-thread instrumentation
// (long tasks, frame rate). The library is the built dist/, as users get it.
import * as Comlink from 'comlink';
import type * as Lib from '../src/index.js';
import type { BenchWorkerApi } from './bench.worker.js';
import { type LiveRun, liveRun } from './live-page.js';
import { naiveLoad, openDevice, releaseBuffers } from './naive.js';
import type { QueryTableReport } from './query-line.js';
import { queryRun } from './query-page.js';
import type { RunResult, VariantId } from './variants.js';

declare global {
  interface Window {
    bench: {
      run(variant: VariantId, url: string, gpuBytes: number): Promise<RunResult>;
      /** A new loader's first live load (cold), then its second (warm, staging buffers kept). */
      live(input: string, pauseMs: number, batchRows: number): Promise<{ cold: LiveRun; warm: LiveRun }>;
      /** The query line on the table at `url` (the operations named in `only`): GPU in the worker, loops on the page. */
      queries(url: string, reps: number, only?: string[]): Promise<Omit<QueryTableReport, 'input' | 'reps'>>;
    };
    benchReady: Promise<void>;
    benchAdapter?: Lib.AdapterSummary;
  }
}

function instrument(): () => { longTasks: number; longestTaskMs: number; fps: number } {
  const durations: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) durations.push(entry.duration);
  });
  observer.observe({ type: 'longtask' });
  let frames = 0;
  let running = true;
  const t0 = performance.now();
  // A page that animates: rAF keeps the main thread's frame loop visible.
  const ctx = (document.getElementById('spinner') as HTMLCanvasElement).getContext(
    '2d',
  ) as CanvasRenderingContext2D;
  const tick = (now: number) => {
    if (!running) return;
    frames++;
    ctx.clearRect(0, 0, 64, 64);
    ctx.fillRect(32 + 24 * Math.cos(now / 100), 32 + 24 * Math.sin(now / 100), 4, 4);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return () => {
    running = false;
    for (const entry of observer.takeRecords()) durations.push(entry.duration);
    observer.disconnect();
    const seconds = (performance.now() - t0) / 1000;
    return { longTasks: durations.length, longestTaskMs: Math.max(0, ...durations), fps: frames / seconds };
  };
}

/**
 * Loads `url`, draws every row on a 512 × 512 canvas in the loader's worker (x, y and a colour column:
 * the mixed tables' x, y, kind; the dashboard's price, score, category; another table's first three),
 * then pans three times, with the page's long tasks and frame rate watched throughout.
 */
async function renderRun(loader: Lib.Loader, url: string): Promise<RunResult> {
  const stop = instrument();
  const t0 = performance.now();
  const table = await loader.load(url, { upload: 'staging' });
  const loaded = performance.now();
  const names = table.columns.map((c) => c.name);
  const [x, y, color] = names.includes('x')
    ? ['x', 'y', 'kind']
    : names.includes('price')
      ? ['price', 'score', 'category']
      : (names.slice(0, 3) as [string, string, string]); // the small file: value, hour, kind
  document.getElementById('plot')?.remove();
  const canvas = document.createElement('canvas');
  canvas.id = 'plot';
  canvas.width = 512;
  canvas.height = 512;
  document.body.append(canvas);
  const view = await loader.render(canvas.transferControlToOffscreen(), { table, x, y, color, size: 1 });
  const firstMs = performance.now() - loaded;
  const [lo, hi] = view.domain.x;
  const panned = performance.now();
  for (let i = 1; i <= 3; i++)
    await view.update({ domain: { x: [lo + (hi - lo) * 0.1 * i, hi + (hi - lo) * 0.1 * i] } });
  const panMs = (performance.now() - panned) / 3;
  const main = stop();
  const { stats } = table;
  await view.destroy();
  await table.destroy();
  return {
    msTotal: performance.now() - t0,
    msToFirstBatch: stats.msToFirstBatch,
    msToFirstProgress: null,
    ...main,
    stages: stats.stages,
    maxUploadsInFlight: stats.maxUploadsInFlight,
    maxQueueDepth: stats.maxQueueDepth,
    frames: { firstMs, panMs },
  };
}

/** One load on `loader`, its page-side figures (long tasks, frame rate, first progress) with its stats. */
async function oursRun(
  loader: Lib.Loader,
  url: string,
  upload: Lib.UploadStrategy,
  decodeWorkers?: number,
): Promise<RunResult> {
  const stop = instrument();
  const t0 = performance.now();
  let firstProgress: number | null = null;
  const table = await loader.load(url, {
    upload,
    ...(decodeWorkers === undefined ? {} : { decodeWorkers }),
    onProgress: () => {
      firstProgress ??= performance.now() - t0;
    },
  });
  const main = stop();
  const { stats } = table;
  await table.destroy();
  return {
    msTotal: stats.msTotal,
    msToFirstBatch: stats.msToFirstBatch,
    msToFirstProgress: firstProgress,
    ...main,
    stages: stats.stages,
    maxUploadsInFlight: stats.maxUploadsInFlight,
    maxQueueDepth: stats.maxQueueDepth,
    decodeWorkers: stats.decodeWorkers,
  };
}

/** A new loader's first load: `createLoader` timed apart, then the load as `ours:staging` times it. */
async function coldRun(lib: typeof Lib, url: string, decodeWorkers?: number): Promise<RunResult> {
  const t0 = performance.now();
  const fresh = await lib.createLoader(decodeWorkers === undefined ? {} : { decodeWorkers });
  const msCreate = performance.now() - t0;
  try {
    return { ...(await oursRun(fresh, url, 'staging')), msCreate };
  } finally {
    await fresh.close();
  }
}

window.benchReady = (async () => {
  const lib: typeof Lib = await import(/* @vite-ignore */ `${location.origin}/dist/index.js`);
  const loader = await lib.createLoader();
  window.benchAdapter = await loader.adapterInfo();
  const worker = Comlink.wrap<BenchWorkerApi>(
    new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'bench-worker' }),
  );
  const device = await openDevice();
  // Loads onto the page's own device: the worker decodes, the main thread writes what it posts. Made
  // on first use, after the page's loader, whose worker is the one the heap sampler follows (the
  // first worker of that URL).
  let deviceLoader: Lib.Loader | null = null;
  // Loaders that read responses on a read worker, or not, whatever the default: made on first use too.
  const readLoaders: Partial<Record<VariantId, Lib.Loader>> = {};

  const ceiling = async (ms: Promise<number>): Promise<RunResult> => ({
    msTotal: await ms,
    msToFirstBatch: null,
    msToFirstProgress: null,
    longTasks: 0,
    longestTaskMs: 0,
    fps: null,
  });

  async function run(variant: VariantId, url: string, gpuBytes: number): Promise<RunResult> {
    switch (variant) {
      case 'ceil:read':
        return ceiling(worker.read(url));
      case 'ceil:decode':
        return ceiling(worker.decode(url));
      case 'ceil:writeBuffer':
        return ceiling(worker.writeBuffer(gpuBytes));
      case 'ceil:staging':
        return ceiling(worker.staging(gpuBytes));
      case 'ours:staging':
      case 'ours:writeBuffer':
      case 'ours:device': {
        const upload = variant === 'ours:writeBuffer' ? 'writeBuffer' : 'staging';
        if (variant !== 'ours:device') return oursRun(loader, url, upload);
        deviceLoader ??= await lib.createLoader({ device });
        return oursRun(deviceLoader, url, upload);
      }
      case 'ours:one-decoder':
        return oursRun(loader, url, 'staging', 1);
      case 'ours:pool':
        return oursRun(loader, url, 'staging', 4);
      case 'ours:read-worker':
      case 'ours:no-read-worker': {
        const readWorker = variant === 'ours:read-worker';
        const kept = readLoaders[variant] ?? (await lib.createLoader({ readWorker }));
        readLoaders[variant] = kept;
        return oursRun(kept, url, 'staging');
      }
      case 'ours:cold':
        return coldRun(lib, url);
      case 'ours:cold-one-decoder':
        return coldRun(lib, url, 1);
      case 'ours:render':
        return renderRun(loader, url);
      case 'naive:main':
      case 'naive:flechette': {
        const stop = instrument();
        const result = await naiveLoad(device, url, variant === 'naive:main' ? 'apache-arrow' : 'flechette');
        const main = stop();
        releaseBuffers(device, result.buffers);
        return {
          msTotal: result.msTotal,
          msToFirstBatch: result.msToFirstBatch,
          msToFirstProgress: null,
          ...main,
        };
      }
      case 'naive:worker': {
        const stop = instrument();
        const result = await worker.naive(url);
        return { ...result, msToFirstProgress: null, ...stop() };
      }
    }
  }

  async function live(input: string, pauseMs: number, batchRows: number) {
    const fresh = await lib.createLoader();
    try {
      const url = (id: string) => `/live/${input}?id=${id}&pause=${pauseMs}`;
      const id = () => `bench-${Math.random().toString(36).slice(2)}`;
      const coldId = id();
      const cold = await liveRun(fresh, url(coldId), coldId, batchRows);
      const warmId = id();
      const warm = await liveRun(fresh, url(warmId), warmId, batchRows);
      return { cold, warm };
    } finally {
      await fresh.close();
    }
  }

  window.bench = { run, live, queries: (url, reps, only) => queryRun(loader, url, reps, only) };
  (document.getElementById('status') as HTMLElement).textContent = 'ready';
})();
