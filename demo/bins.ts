import type { ColumnInfo, GpuTable, HistogramOptions } from '../src/index.js';

/** Most bins of a chart: a few pixels each at the panel's width. */
const MAX_BINS = 120;
const TARGET_BINS = 48;
/** Share of rows left out at each end of a numeric range, so that a long tail does not squash the rest. */
const TAIL = 0.01;

const HOUR = 3_600_000;
/** Time steps a timestamp histogram may take, in milliseconds: whole hours and days, so bins align with them. */
const TIME_STEPS = [60_000, 300_000, 900_000, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 7 * 24 * HOUR];
const UNIT_MS: Record<string, number> = { SECOND: 1e3, MILLISECOND: 1, MICROSECOND: 1e-3, NANOSECOND: 1e-6 };

/**
 * The bins of a column's chart: timestamps in whole hours or days (the daily rhythm shows), numbers over
 * a round range that leaves out the 1% tails (rows beyond fall in the end bins' brushes, which open to
 * ±Infinity), integers one value a bin or more. Computed from the column on the GPU.
 */
export async function binsFor(table: GpuTable, column: ColumnInfo): Promise<HistogramOptions> {
  const unit = /^Timestamp<(\w+)/.exec(column.arrowType)?.[1];
  if (unit) return timeBins(table, column.name, UNIT_MS[unit] ?? 1);
  const integer = /^U?Int/.test(column.arrowType);
  const wide = await table.histogram(column.name, { bins: 1024 });
  const total = wide.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return { bins: 1, min: 0, max: 1 };
  const [lo, hi] = quantileRange(wide.edges, wide.counts, total);
  return niceBins(lo, hi, integer);
}

async function timeBins(table: GpuTable, name: string, unitMs: number): Promise<HistogramOptions> {
  const { min, max } = await table.describe(name);
  if (min === null || max === null) return { bins: 1, min: 0, max: 1 };
  const lo = Number(min) * unitMs;
  const hi = Number(max) * unitMs;
  const step = TIME_STEPS.find((s) => (hi - lo) / s <= MAX_BINS) ?? (hi - lo) / TARGET_BINS;
  const start = Math.floor(lo / step) * step;
  const bins = Math.max(1, Math.ceil((hi - start + unitMs) / step));
  return { bins, min: start / unitMs, max: (start + bins * step) / unitMs };
}

/** The values between which all but `TAIL` of the rows lie at each end, from a fine histogram. */
function quantileRange(edges: Float64Array, counts: Uint32Array, total: number): [number, number] {
  let below = 0;
  let first = 0;
  while (first < counts.length - 1 && below + (counts[first] as number) <= total * TAIL)
    below += counts[first++] as number;
  let above = 0;
  let last = counts.length - 1;
  while (last > first && above + (counts[last] as number) <= total * TAIL) above += counts[last--] as number;
  return [edges[first] as number, edges[last + 1] as number];
}

/** About `TARGET_BINS` bins of a round width (1, 2, 2.5 or 5 × 10^k; at least 1 for integers) covering `[lo, hi]`. */
function niceBins(lo: number, hi: number, integer: boolean): HistogramOptions {
  const raw = (hi - lo) / TARGET_BINS || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  if (integer) step = Math.max(1, Math.round(step));
  const min = Math.floor(lo / step) * step;
  const bins = Math.min(MAX_BINS, Math.max(1, Math.ceil((hi - min) / step) + (integer ? 1 : 0)));
  return { bins, min, max: min + bins * step };
}
