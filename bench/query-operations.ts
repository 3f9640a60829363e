// The query benchmark's operations, shared by the Node run (bench/queries.ts, the worker's service
// object on Dawn) and the Chromium run (bench/query-page.ts, a table of the public API): describe and
// histogram of each column, and crossfilter brush moves over f32 × i32 × cat, each beside the plain
// JavaScript loop that computes the same thing; repetitions interleave the two.
import type { Table, Vector } from 'apache-arrow';
import type { CrossfilterOptions, HistogramOptions } from '../src/types.js';
import {
  type JsDim,
  jsBinCodes,
  jsCrossfilter,
  jsDescribe,
  jsHistogram,
  type Values,
} from './query-baselines.js';
import { summarize } from './stats.js';

/** The synthetic table's columns and their kinds in scripts/datasets.ts (`cat`: 50 dictionary values). */
export const QUERY_COLUMNS = { f32: 'f32', f64: 'f64', i32: 'i32', cat: 'dict-utf8' } as const;

/** A column of the query table. */
export type QueryColumn = keyof typeof QUERY_COLUMNS;

/** The queries of one table, whichever side of the worker boundary calls them. */
export interface QueryTarget {
  describe(name: string): Promise<unknown>;
  histogram(name: string, options: HistogramOptions): Promise<unknown>;
  crossfilter(options: CrossfilterOptions): Promise<unknown>;
}

/** One measured operation: the GPU call and the CPU loop that computes the same thing. */
export interface Operation {
  name: string;
  gpu: () => Promise<unknown>;
  js: () => unknown;
}

/** Median milliseconds of one operation on one table. */
export interface OperationTiming {
  operation: string;
  gpuMs: number;
  jsMs: number;
  /** Fastest and slowest repetition. */
  gpuRange: [number, number];
  jsRange: [number, number];
  reps: number;
}

/** Each column of the query table as one typed array (the dictionary column: its codes). */
export function queryValues(table: Table): Record<QueryColumn, Values> {
  const column = (name: QueryColumn): Values => {
    const parts = (table.getChild(name) as Vector).data.map((d) => d.values as Values);
    const out = new ((parts[0] as Values).constructor as new (n: number) => Values)(table.numRows);
    let at = 0;
    for (const part of parts) {
      out.set(part as never, at);
      at += part.length;
    }
    return out;
  };
  return { f32: column('f32'), f64: column('f64'), i32: column('i32'), cat: column('cat') };
}

/** describe and histogram of each column, and crossfilter brush moves over f32 × i32 × cat. */
export async function queryOperations(
  target: QueryTarget,
  values: Record<QueryColumn, Values>,
  log: (line: string) => void = () => {},
): Promise<Operation[]> {
  const operations: Operation[] = [];
  for (const name of Object.keys(QUERY_COLUMNS) as QueryColumn[]) {
    operations.push({
      name: `describe(${name})`,
      gpu: () => target.describe(name),
      js: () => jsDescribe(values[name]),
    });
  }
  for (const name of ['f32', 'f64', 'i32'] as const) {
    const { min, max } = jsDescribe(values[name]);
    operations.push({
      name: `histogram(${name}, 64 bins, range given)`,
      gpu: () => target.histogram(name, { bins: 64, min, max }),
      js: () => jsHistogram(values[name], 64, min, max),
    });
    operations.push({
      name: `histogram(${name}, 64 bins, range found)`,
      gpu: () => target.histogram(name, { bins: 64 }),
      js: () => {
        const found = jsDescribe(values[name]);
        return jsHistogram(values[name], 64, found.min, found.max);
      },
    });
  }
  operations.push(await crossfilterOperation(target, values, log));
  return operations;
}

/** A brush on f32 that moves on every update, across 7 positions, with i32 and cat brushed still. */
async function crossfilterOperation(
  target: QueryTarget,
  values: Record<QueryColumn, Values>,
  log: (line: string) => void,
): Promise<Operation> {
  const dims = { f32: { bins: 64 }, i32: { bins: 64 }, cat: {} };
  const f32 = jsDescribe(values.f32);
  const i32 = jsDescribe(values.i32);
  const cat = jsDescribe(values.cat);
  const width = (f32.max - f32.min) / 4;
  const brushAt = (k: number): [number, number] => {
    const lo = f32.min + ((k % 7) / 7) * (f32.max - f32.min - width);
    return [lo, lo + width];
  };
  const fixed = { i32: [i32.min / 2, i32.max / 2] as [number, number], cat: [0, 10] as [number, number] };
  const t0 = performance.now();
  await target.crossfilter({ dims, brush: { f32: brushAt(0), ...fixed } });
  const dim = (v: Values, bins: number, min: number, max: number, brush: JsDim['brush']): JsDim => ({
    values: v,
    codes: jsBinCodes(v, bins, min, max),
    bins,
    brush,
    inside: null,
  });
  const jsDims: JsDim[] = [
    dim(values.f32, 64, f32.min, f32.max, null),
    dim(values.i32, 64, i32.min, i32.max, fixed.i32),
    dim(values.cat, cat.max + 1, 0, cat.max + 1, fixed.cat),
  ];
  log(
    `crossfilter set-up (bin codes of 3 dimensions, kernels compiled): ${(performance.now() - t0).toFixed(1)} ms`,
  );
  let gpuMoves = 0;
  let jsMoves = 0;
  return {
    name: 'crossfilter brush move (3 dims)',
    gpu: () => target.crossfilter({ dims, brush: { f32: brushAt(++gpuMoves), ...fixed } }),
    js: () => {
      (jsDims[0] as JsDim).brush = brushAt(++jsMoves);
      return jsCrossfilter(jsDims);
    },
  };
}

/** Warms each operation once, then `reps` rounds, GPU and CPU in alternating order; medians. */
export async function measureOperations(
  operations: readonly Operation[],
  reps: number,
): Promise<OperationTiming[]> {
  const samples = operations.map(() => ({ gpu: [] as number[], js: [] as number[] }));
  for (const op of operations) {
    await op.gpu();
    op.js();
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const [k, op] of operations.entries()) {
      const sample = samples[k] as { gpu: number[]; js: number[] };
      const runGpu = async () => {
        const t = performance.now();
        await op.gpu();
        sample.gpu.push(performance.now() - t);
      };
      const runJs = () => {
        const t = performance.now();
        op.js();
        sample.js.push(performance.now() - t);
      };
      if (rep % 2 === 0) {
        await runGpu();
        runJs();
      } else {
        runJs();
        await runGpu();
      }
    }
  }
  return operations.map((op, k) => {
    const { gpu, js } = samples[k] as { gpu: number[]; js: number[] };
    const g = summarize(gpu) ?? { median: 0, min: 0, max: 0 };
    const j = summarize(js) ?? { median: 0, min: 0, max: 0 };
    return {
      operation: op.name,
      gpuMs: g.median,
      jsMs: j.median,
      gpuRange: [g.min, g.max],
      jsRange: [j.min, j.max],
      reps,
    };
  });
}
