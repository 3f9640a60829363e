// The live-stream line of the benchmark: a stream the server sends one batch at a time with a pause
// between batches, as a server producing data would. Measured per batch: from the server handing its
// bytes to the socket to its `onBatch` on the page; and first-data time for a new (cold) loader and
// for its second load (warm).
import type { Page } from '@playwright/test';
import { MIXED_COLUMNS } from '../scripts/datasets.js';
import type { BenchInput } from './inputs.js';
import type { LiveRun } from './live-page.js';
import { type Summary, summarize } from './stats.js';

/** 32 batches of 16,384 rows (≈ 295 KiB each) of the mixed numeric columns. */
export const LIVE_INPUT: BenchInput = {
  name: 'live-32x16k.arrow',
  spec: { rows: 32 * 16_384, batchRows: 16_384, format: 'stream', columns: { ...MIXED_COLUMNS } },
  gpuBytes: 32 * 16_384 * 16,
};

/** The smoke run's live input: 4 small batches. */
export const LIVE_SMOKE_INPUT: BenchInput = {
  name: 'live-smoke-4x4k.arrow',
  spec: { rows: 4 * 4096, batchRows: 4096, format: 'stream', columns: { ...MIXED_COLUMNS } },
  gpuBytes: 4 * 4096 * 16,
};

/** Milliseconds the server waits between batches: long enough that batches never overlap on the GPU path. */
export const LIVE_PAUSE_MS = 100;

/** Spread of per-batch times over every batch of every run. */
export interface BatchSpread {
  median: number;
  p95: number;
  min: number;
  max: number;
  n: number;
}

/** What the live line reports. */
export interface LiveReport {
  input: string;
  batches: number;
  pauseMs: number;
  reps: number;
  /** Per batch, handed to the socket → `onBatch` on the page, over every batch of every run (cold and warm). */
  batchMs: BatchSpread | null;
  /**
   * Per batch, in the worker, the last byte of its message read by the loader → its rows on the GPU
   * (copy done, published), over every batch of every run; `null` for a build without the figure.
   */
  lastByteToGpuMs: BatchSpread | null;
  /** Of those, the copy submitted → the GPU's report that it is done, over the same batches. */
  onGpuMs: BatchSpread | null;
  /** The slowest of those batches: which load (a new loader's first, or its second) and which batch. */
  slowest: SlowBatch[];
  /** First rows visible on the page, from the call. */
  firstDataMs: { cold: Summary | null; warm: Summary | null };
  /** `stats.msToFirstBatch` (worker side). */
  msToFirstBatch: { cold: Summary | null; warm: Summary | null };
  /** Of it, the load's start → the last byte of batch 0 read (worker side). */
  firstReadMs: { cold: Summary | null; warm: Summary | null };
  /** The `open` call → the request at the server. */
  requestMs?: { cold: Summary | null; warm: Summary | null };
  /** Batch 0 handed to the server's socket → its `onBatch` on the page. */
  firstBatchMs?: { cold: Summary | null; warm: Summary | null };
}

/** One batch's last byte → on the GPU, with where it was. */
export interface SlowBatch {
  ms: number;
  /** Of `ms`, the copy submitted → done on the GPU (NaN for a build without the figure). */
  onGpuMs: number;
  load: 'cold' | 'warm';
  batch: number;
}

/** The `n` slowest batches, last byte → on the GPU, over the runs. */
function slowestOf(runs: { load: 'cold' | 'warm'; run: LiveRun }[], n = 8): SlowBatch[] {
  const all = runs.flatMap(({ load, run }) =>
    run.lastByteToGpuMs.map((ms, i) => ({
      ms,
      onGpuMs: run.onGpuMs?.[i] ?? Number.NaN,
      load,
      batch: run.lastByteBatches?.[i] ?? -1,
    })),
  );
  return all.sort((a, b) => b.ms - a.ms).slice(0, n);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function spread(values: readonly number[]): BatchSpread | null {
  if (values.length === 0) return null;
  return {
    median: percentile(values, 50),
    p95: percentile(values, 95),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
}

/** A figure of each run summarized over the new loaders' loads and over their second ones (no figure: NaN). */
function coldAndWarm(
  cold: readonly LiveRun[],
  warm: readonly LiveRun[],
  figure: (run: LiveRun) => number,
): { cold: Summary | null; warm: Summary | null } {
  const of = (runs: readonly LiveRun[]) => summarize(runs.map(figure).filter(Number.isFinite));
  return { cold: of(cold), warm: of(warm) };
}

/** Runs the live line `reps` times, each a new loader's cold load then its warm one. */
export async function runLive(page: Page, input: BenchInput, reps: number): Promise<LiveReport> {
  const cold: LiveRun[] = [];
  const warm: LiveRun[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const run = await page.evaluate(
      ({ name, pause, batchRows }) => window.bench.live(name, pause, batchRows),
      { name: input.name, pause: LIVE_PAUSE_MS, batchRows: input.spec.batchRows },
    );
    cold.push(run.cold);
    warm.push(run.warm);
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  const runs = [...cold, ...warm];
  return {
    input: input.name,
    batches: Math.ceil(input.spec.rows / input.spec.batchRows),
    pauseMs: LIVE_PAUSE_MS,
    reps,
    batchMs: spread(runs.flatMap((r) => r.batchMs)),
    lastByteToGpuMs: spread(runs.flatMap((r) => r.lastByteToGpuMs)),
    onGpuMs: spread(runs.flatMap((r) => r.onGpuMs ?? []).filter(Number.isFinite)),
    slowest: slowestOf([
      ...cold.map((run) => ({ load: 'cold' as const, run })),
      ...warm.map((run) => ({ load: 'warm' as const, run })),
    ]),
    firstDataMs: coldAndWarm(cold, warm, (r) => r.firstDataMs),
    msToFirstBatch: coldAndWarm(cold, warm, (r) => r.msToFirstBatch),
    firstReadMs: coldAndWarm(cold, warm, (r) => r.firstReadMs ?? Number.NaN),
    requestMs: coldAndWarm(cold, warm, (r) => r.requestMs ?? Number.NaN),
    firstBatchMs: coldAndWarm(cold, warm, (r) => r.firstBatchMs ?? Number.NaN),
  };
}

const fmt = (s: Summary | null) =>
  s ? `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})` : '–';

const spreadCells = (b: BatchSpread | null) =>
  b ? `${b.median.toFixed(1)} (${b.min.toFixed(1)}–${b.max.toFixed(1)}) | ${b.p95.toFixed(1)}` : '– | –';

const slowCell = (s: SlowBatch) =>
  `${s.ms.toFixed(1)} ms (batch ${s.batch}, ${s.load}${
    Number.isFinite(s.onGpuMs) ? `; ${s.onGpuMs.toFixed(1)} of it on the GPU` : ''
  })`;

/** The live line as Markdown (also printed). */
export function liveMarkdown(r: LiveReport): string {
  const b = r.batchMs;
  const g = r.lastByteToGpuMs;
  return [
    `**Live stream** — ${r.input}: ${r.batches} batches, the server pausing ${r.pauseMs} ms after each; ` +
      `each of ${r.reps} new loaders opens it twice (cold, then warm).`,
    '',
    '| measure, ms | median (min–max) | p95 |',
    '| --- | --- | --- |',
    `| a batch handed to the server's socket → its \`onBatch\` on the page (${b?.n ?? 0} batches) | ${spreadCells(b)} |`,
    `| the last byte of a batch's message read by the loader → the batch on the GPU, in the worker (${g?.n ?? 0} batches) | ${spreadCells(g)} |`,
    `| of which: its copy submitted → the GPU's report that it is done | ${spreadCells(r.onGpuMs ?? null)} |`,
    `| \`open\` → first \`onBatch\`, cold loader | ${fmt(r.firstDataMs.cold)} | |`,
    `| \`open\` → first \`onBatch\`, warm loader | ${fmt(r.firstDataMs.warm)} | |`,
    `| \`stats.msToFirstBatch\` (worker), cold / warm | ${fmt(r.msToFirstBatch.cold)} / ${fmt(r.msToFirstBatch.warm)} | |`,
    `| of which: the load's start → batch 0's last byte read, cold / warm | ${fmt(r.firstReadMs?.cold ?? null)} / ${fmt(r.firstReadMs?.warm ?? null)} | |`,
    `| \`open\` → the request at the server, cold / warm | ${fmt(r.requestMs?.cold ?? null)} / ${fmt(r.requestMs?.warm ?? null)} | |`,
    `| batch 0 handed to the server's socket → its \`onBatch\`, cold / warm | ${fmt(r.firstBatchMs?.cold ?? null)} / ${fmt(r.firstBatchMs?.warm ?? null)} | |`,
    '',
    `The slowest batches, last byte → on the GPU: ${(r.slowest ?? []).map(slowCell).join(', ') || '–'}.`,
    '',
  ].join('\n');
}
