import type { HeldValue } from './query-table.js';

// Histograms and crossfilters computed on the CPU over the values a table was made from, by the rules the
// README states, with plain comparisons (a bigint against a double compares exactly in JavaScript).

/** A histogram as the CPU counts it. */
export interface CpuHistogram {
  rows: number;
  counts: number[];
  nulls: number;
  nans: number;
  below: number;
  above: number;
}

/** Bins of one histogram: `edges`, and whether the last bin holds its right edge. */
export interface CpuBins {
  edges: ArrayLike<number>;
  closed: boolean;
}

/**
 * Counts `values` (over the rows `keep` selects) into the bins: bin i holds `edges[i] ≤ v < edges[i + 1]`,
 * the last also `v = edges[bins]` when closed; −∞ and values under the first edge are below, +∞ and those
 * past the last above; NaN and null apart.
 */
export function cpuHistogram(
  values: readonly HeldValue[],
  { edges, closed }: CpuBins,
  keep: (row: number) => boolean = () => true,
): CpuHistogram {
  const bins = edges.length - 1;
  const h: CpuHistogram = { rows: 0, counts: new Array(bins).fill(0), nulls: 0, nans: 0, below: 0, above: 0 };
  const last = edges[bins] as number;
  for (const [row, v] of values.entries()) {
    if (!keep(row)) continue;
    h.rows++;
    if (v === null) h.nulls++;
    else if (typeof v === 'number' && Number.isNaN(v)) h.nans++;
    else if (v < (edges[0] as number)) h.below++;
    else if (closed ? v > last : v >= last) h.above++;
    else {
      let i = bins - 1;
      while (v < (edges[i] as number)) i--;
      h.counts[i] = (h.counts[i] as number) + 1;
    }
  }
  return h;
}

/** The smallest and largest finite values, as doubles rounded outwards (bigints); `null` when there is none. */
export function finiteRange(values: readonly HeldValue[]): { min: number; max: number } | null {
  let min: number | bigint | null = null;
  let max: number | bigint | null = null;
  for (const v of values) {
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) continue;
    if (min === null || v < min) min = v;
    if (max === null || v > max) max = v;
  }
  if (min === null || max === null) return null;
  return { min: roundDown(min), max: roundUp(max) };
}

/**
 * The range a histogram takes from `values` when min and max are left out: the finite extent, [0, 1]
 * without one, and v ± 0.5 (or the neighbouring doubles, where 0.5 is lost) for a single value v.
 */
export function defaultRange(values: readonly HeldValue[]): { min: number; max: number } {
  const range = finiteRange(values) ?? { min: 0, max: 1 };
  if (range.min < range.max) return range;
  const v = range.min;
  return { min: v - 0.5 < v ? v - 0.5 : nextDown(v), max: v + 0.5 > v ? v + 0.5 : nextUp(v) };
}

/** The README's edges: `min + i·(max − min)/bins`, the last exactly `max`. */
export function equalEdges(min: number, max: number, bins: number): number[] {
  const width = (max - min) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : i === 0 ? min : min + i * width));
}

/** A brush `[lo, hi)` on a dimension; null and NaN values are outside every brush. */
export type CpuBrush = readonly [number, number];

/** Whether `v` is inside `brush`. */
export function inBrush(v: HeldValue, [lo, hi]: CpuBrush): boolean {
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return false;
  return v >= lo && v < hi;
}

/** A crossfilter as the CPU counts it: every dimension over the rows that pass all the other brushes. */
export function cpuCrossfilter(
  columns: Record<string, readonly HeldValue[]>,
  dims: Record<string, CpuBins>,
  brushes: Record<string, CpuBrush | null>,
  rows: number,
): { rows: number; selected: number; dims: Record<string, CpuHistogram> } {
  const names = Object.keys(dims);
  const fails = (row: number) =>
    names.filter((n) => {
      const brush = brushes[n];
      return brush ? !inBrush((columns[n] as HeldValue[])[row] as HeldValue, brush) : false;
    });
  const failed = Array.from({ length: rows }, (_, row) => fails(row));
  const histograms = Object.fromEntries(
    names.map((n) => [
      n,
      cpuHistogram(columns[n] as HeldValue[], dims[n] as CpuBins, (row) => {
        const f = failed[row] as string[];
        return f.length === 0 || (f.length === 1 && f[0] === n);
      }),
    ]),
  );
  return { rows, selected: failed.filter((f) => f.length === 0).length, dims: histograms };
}

/** 2^(e − 52) for 2^e ≤ |x| < 2^(e + 1): the spacing of doubles at x, away from zero. */
function ulp(x: number): number {
  const exponent = Math.floor(Math.log2(Math.abs(x)));
  return 2 ** Math.max(exponent - 52, -1074);
}

/** The largest double below `x`: x − ulp/2 where that is a double (below a power of two), else x − ulp. */
function nextDown(x: number): number {
  const half = x - ulp(x) / 2;
  return half < x ? half : x - ulp(x);
}

function nextUp(x: number): number {
  return -nextDown(-x);
}

function roundDown(x: number | bigint): number {
  if (typeof x === 'number') return x;
  const n = Number(x);
  return BigInt(n) > x ? nextDown(n) : n;
}

function roundUp(x: number | bigint): number {
  if (typeof x === 'number') return x;
  const n = Number(x);
  return BigInt(n) < x ? nextUp(n) : n;
}
