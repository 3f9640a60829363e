// The query line of the Chromium benchmark: describe, histogram and crossfilter brush moves through the
// public API (a table in the loader's worker, over Comlink) against plain JavaScript loops over the same
// values on the page's thread, at 1 M and 10 M rows, repetitions interleaved (bench/query-operations.ts).
import type { Page } from '@playwright/test';
import type { DatasetSpec } from '../scripts/datasets.js';
import { type BenchInput, gpuBytesOf } from './inputs.js';
import { type OperationTiming, QUERY_COLUMNS } from './query-operations.js';

/** What one table of the query line measured. */
export interface QueryTableReport {
  input: string;
  rows: number;
  reps: number;
  /** The table's load (`encodings: { f64: 'f64' }`) and the page's decode of the same file for the loops. */
  loadMs: number;
  /** The crossfilter's set-up line (bin codes of 3 dimensions, kernels compiled). */
  notes: string[];
  timings: OperationTiming[];
}

function queryInput(name: string, rows: number): BenchInput {
  const spec: DatasetSpec = {
    rows,
    batchRows: 1 << 20,
    format: 'stream',
    columns: { ...QUERY_COLUMNS },
    distinct: { cat: 50 },
  };
  return { name, spec, gpuBytes: gpuBytesOf(spec) + rows * 4 };
}

/** The query tables: f32, f64 (loaded as f64), i32 and a 50-value dictionary, 1 M and 10 M rows. */
export const QUERY_INPUTS: BenchInput[] = [
  queryInput('queries-1m.arrow', 1_000_000),
  queryInput('queries-10m.arrow', 10_000_000),
];

/** The smoke run's query table. */
export const QUERY_SMOKE_INPUT: BenchInput = queryInput('queries-smoke-32k.arrow', 32_768);

/** The operations of the smoke run: one of each kind (SwiftShader takes about a second for each). */
export const QUERY_SMOKE_OPERATIONS = [
  'describe(f32)',
  'histogram(f32, 64 bins, range given)',
  'crossfilter brush move (3 dims)',
];

/**
 * Runs the query operations (those named in `only`, or all) on each input, `reps` interleaved
 * repetitions after a warm-up.
 */
export async function runQueryLine(
  page: Page,
  inputs: readonly BenchInput[],
  reps: number,
  only?: readonly string[],
): Promise<QueryTableReport[]> {
  const reports: QueryTableReport[] = [];
  for (const input of inputs) {
    const url = `/bench-data/${input.name}`;
    const run = await page.evaluate(({ url, reps, only }) => window.bench.queries(url, reps, only), {
      url,
      reps,
      only: only ? [...only] : undefined,
    });
    reports.push({ input: input.name, reps, ...run });
    console.log(`\n${queryMarkdown([reports[reports.length - 1] as QueryTableReport])}`);
  }
  return reports;
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const range = ([lo, hi]: [number, number]) => `${ms(lo)}–${ms(hi)}`;

/** The query line as Markdown: one table per input, GPU and JS medians (min–max) and their ratio. */
export function queryMarkdown(reports: readonly QueryTableReport[]): string {
  return reports
    .map((r) =>
      [
        `**Queries** — ${r.input}: ${r.rows.toLocaleString('en')} rows, ${r.reps} interleaved repetitions ` +
          `(medians, min–max); loaded in ${r.loadMs.toFixed(0)} ms. ${r.notes.join('; ')}`,
        '',
        '| operation | GPU ms (worker, public API) | JS loop ms (page) | JS ÷ GPU |',
        '| --- | --- | --- | --- |',
        ...r.timings.map(
          (t) =>
            `| \`${t.operation}\` | ${ms(t.gpuMs)} (${range(t.gpuRange)}) | ${ms(t.jsMs)} (${range(t.jsRange)}) | ${(t.jsMs / t.gpuMs).toFixed(2)}× |`,
        ),
        '',
      ].join('\n'),
    )
    .join('\n');
}

/** What makes a smoke run red: an operation without a finite time on either side. */
export function queryFailures(reports: readonly QueryTableReport[]): string[] {
  return reports.flatMap((r) =>
    r.timings
      .filter((t) => !(t.gpuMs > 0 && Number.isFinite(t.gpuMs) && t.jsMs >= 0 && Number.isFinite(t.jsMs)))
      .map((t) => `${r.input} ${t.operation}: no time`),
  );
}
