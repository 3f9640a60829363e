import { type KeySpace, keyAbove, keyAtLeast } from './ordered-keys.js';

/**
 * Counters after a histogram's bins, in this order: rows below the first edge, rows at or above the last
 * (above it when the last bin is closed), NaN rows, null rows. Slot `bins + SLOT_BELOW` and so on.
 */
export const SLOT_BELOW = 0;
export const SLOT_ABOVE = 1;
export const SLOT_NAN = 2;
export const SLOT_NULL = 3;
/** Counters a histogram keeps beyond its bins. */
export const EXTRA_SLOTS = 4;

/** The bins of one histogram, as the CPU reports them and the GPU counts them. */
export interface BinPlan {
  bins: number;
  /** `bins + 1` edges in f64, non-decreasing. */
  edges: Float64Array;
  /**
   * `bins + 1` key thresholds: a non-NaN value is in bin i when `thresholds[i] ≤ key < thresholds[i + 1]`,
   * below when its key is under the first, above at or past the last (`KEY_END`: past every key).
   */
  thresholds: bigint[];
}

/** A histogram's range: `[min, max)`, or `[min, max]` when `closed` (the maximum counts in the last bin). */
export interface BinRange {
  min: number;
  max: number;
  closed: boolean;
}

/**
 * `bins` equal bins over `range` for a column whose keys are in `space`. Edge i is `min + i·w` in f64
 * (`w = (max − min) / bins`), and its threshold the smallest key whose value is at least the edge, so
 * that a value is in bin i exactly when `edges[i] ≤ v < edges[i + 1]` holds in f64.
 */
export function numericPlan(space: KeySpace, bins: number, range: BinRange): BinPlan {
  const edges = edgesOf(range.min, range.max, bins);
  const thresholds = Array.from(edges, (edge, i) =>
    i === bins && range.closed ? keyAbove(space, edge) : keyAtLeast(space, edge),
  );
  return { bins, edges, thresholds };
}

/** One bin per code of a dictionary of `size` values: edges 0, 1, …, size. */
export function dictionaryPlan(size: number): BinPlan {
  const edges = Float64Array.from({ length: size + 1 }, (_, i) => i);
  return { bins: size, edges, thresholds: Array.from(edges, (edge) => BigInt(edge)) };
}

/** The brush `[lo, hi)` as a one-bin plan: a row is inside exactly when it falls in bin 0. */
export function brushPlan(space: KeySpace, lo: number, hi: number): BinPlan {
  return {
    bins: 1,
    edges: Float64Array.of(lo, hi),
    thresholds: [keyAtLeast(space, lo), keyAtLeast(space, hi)],
  };
}

/**
 * `bins + 1` edges from `min` to `max`: `min + i·w`, never past `max`, the last `max` itself. When
 * `max − min` overflows f64, `w` is `max / bins − min / bins` instead.
 */
export function edgesOf(min: number, max: number, bins: number): Float64Array {
  const edges = new Float64Array(bins + 1);
  let width = (max - min) / bins;
  if (!Number.isFinite(width)) width = max / bins - min / bins;
  edges[0] = min;
  for (let i = 1; i < bins; i++) edges[i] = Math.min(min + i * width, max);
  edges[bins] = max;
  return edges;
}
