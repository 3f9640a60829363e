import type { BinRange } from './bin-plan.js';
import { invalidQueryOption, isRecord } from './query-options.js';

/** Most bins of one `histogram` (a dictionary column gets one a value, up to this many). */
export const MAX_HISTOGRAM_BINS = 1 << 20;

/** A histogram's or a crossfilter dimension's bins, as checked: `bins` absent only for dictionary columns. */
export interface BinSpec {
  bins?: number;
  min?: number;
  max?: number;
}

/** Where an option is checked, for messages: the call and the prefix of its names (`''`, `'dims.price.'`). */
export interface OptionSite {
  call: string;
  prefix: string;
}

/**
 * Checks the bin options of one column: `bins` an integer from 1 to `cap`, `min` and `max` finite,
 * `min < max`. A dictionary column (`dictionarySize` not null) has one bin a value, at most `cap` of
 * them: `bins`, `min` and `max` are then left out.
 */
export function checkBinSpec(
  site: OptionSite,
  spec: unknown,
  cap: number,
  dictionarySize: number | null,
): BinSpec {
  const { call, prefix } = site;
  if (dictionarySize !== null && dictionarySize > cap) {
    const expected = `at most ${cap}: a dictionary column has one bin per dictionary value`;
    throw invalidQueryOption(call, `${prefix}bins`, expected, dictionarySize, cap);
  }
  if (spec === undefined && dictionarySize !== null) return {};
  if (!isRecord(spec))
    throw invalidQueryOption(call, prefix ? prefix.slice(0, -1) : 'options', 'an object', spec);
  const { bins, min, max } = spec;
  if (dictionarySize !== null) {
    for (const [option, value] of Object.entries({ bins, min, max })) {
      if (value !== undefined) {
        const expected = 'left out: a dictionary column has one bin per dictionary value';
        throw invalidQueryOption(call, prefix + option, expected, value);
      }
    }
    return {};
  }
  if (!(Number.isSafeInteger(bins) && (bins as number) >= 1 && (bins as number) <= cap)) {
    throw invalidQueryOption(call, `${prefix}bins`, `an integer from 1 to ${cap}`, bins, cap);
  }
  for (const [option, value] of Object.entries({ min, max })) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value))) {
      throw invalidQueryOption(call, prefix + option, 'a finite number', value);
    }
  }
  if (min !== undefined && max !== undefined && !((min as number) < (max as number))) {
    throw invalidQueryOption(call, `${prefix}max`, `above min (${min})`, max, min as number);
  }
  return { bins: bins as number, min: min as number | undefined, max: max as number | undefined };
}

/** A column's smallest and largest finite values (bigints for 64-bit integer columns). */
export interface FiniteExtent {
  min: number | bigint;
  max: number | bigint;
}

/**
 * The range of a numeric histogram: `min` and `max` where given, else the column's finite extent
 * (64-bit integers rounded outwards to f64), the last bin then closed so that the maximum counts in it.
 * With no finite value a missing end is 1 away from the other (`[0, 1]` when both are missing); a
 * single value v with both missing gives `[v − 0.5, v + 0.5]` (the next doubles where 0.5 vanishes).
 */
export function binRange(site: OptionSite, spec: BinSpec, extent: FiniteExtent | null): BinRange {
  const closed = spec.max === undefined;
  let min = spec.min ?? (extent ? below(extent.min) : spec.max !== undefined ? spec.max - 1 : 0);
  let max = spec.max ?? (extent ? above(extent.max) : min + 1);
  if (spec.min === undefined && spec.max === undefined && min === max) {
    min = Math.min(min - 0.5, nextDouble(min, -1));
    const widened = max + 0.5;
    max = widened > max ? widened : Math.min(nextDouble(max, 1), Number.MAX_VALUE);
  }
  // Both given were checked with the options; one given can meet the other taken from the column.
  if (!(min < max) && spec.min !== undefined) {
    const expected = `below max (${max}, the column's largest finite value, as max was left out)`;
    throw invalidQueryOption(site.call, `${site.prefix}min`, expected, min, max);
  }
  if (!(min < max)) {
    const expected = `above min (${min}, the column's smallest finite value, as min was left out)`;
    throw invalidQueryOption(site.call, `${site.prefix}max`, expected, max, min);
  }
  return { min, max, closed };
}

/** A brush: rows whose value v has `lo ≤ v < hi`; `null` for none. */
export type Brush = readonly [number, number] | null;

/** Checks one brush: `null`, or `[lo, hi]` of two numbers (±Infinity allowed, NaN not) with `lo ≤ hi`. */
export function checkBrush(site: OptionSite, name: string, brush: unknown): Brush {
  const option = `${site.prefix}${name}`;
  if (brush === null) return null;
  const expected = 'null or [lo, hi] with numbers lo ≤ hi';
  if (!Array.isArray(brush) || brush.length !== 2)
    throw invalidQueryOption(site.call, option, expected, brush);
  const [lo, hi] = brush as unknown[];
  if (typeof lo !== 'number' || Number.isNaN(lo))
    throw invalidQueryOption(site.call, `${option}[0]`, expected, lo);
  if (typeof hi !== 'number' || Number.isNaN(hi) || hi < lo) {
    throw invalidQueryOption(site.call, `${option}[1]`, expected, hi);
  }
  return [lo, hi];
}

const f64 = new Float64Array(1);
const f64Bits = new BigInt64Array(f64.buffer);

/** The next double after finite `x` towards +∞ (`direction` 1) or −∞ (−1). */
function nextDouble(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * Number.MIN_VALUE;
  f64[0] = x;
  f64Bits[0] = (f64Bits[0] as bigint) + (x > 0 === direction > 0 ? 1n : -1n);
  return f64[0] as number;
}

/** The largest double at most `x`. */
function below(x: number | bigint): number {
  if (typeof x === 'number') return x;
  const n = Number(x);
  return BigInt(n) > x ? nextDouble(n, -1) : n;
}

/** The smallest double at least `x`. */
function above(x: number | bigint): number {
  if (typeof x === 'number') return x;
  const n = Number(x);
  return BigInt(n) < x ? nextDouble(n, 1) : n;
}
