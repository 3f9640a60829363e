import type { DictionaryValue, Encoding, Predicate, PredicateValue } from '../../../types.js';
import { type KeySpace, keyAtLeast, keysEqual } from './ordered-keys.js';
import { predicateError, show } from './predicate-check.js';

/** Keys `[first, last]`, both included, of the 64-bit ordered keys (see ordered-keys.ts). */
export type KeyInterval = readonly [bigint, bigint];

/**
 * How to make a predicate's row mask on the GPU: leaves the kernels compute per column chunk, combined
 * word by word. Constant leaves (a column without nulls asked `isNull`, an `in` matching no key) are
 * folded away before any GPU work.
 */
export type MaskPlan =
  | { op: 'all' }
  | { op: 'none' }
  /** Valid, non-NaN rows whose key lies in one of the intervals (sorted, disjoint, never adjacent). */
  | { op: 'match'; column: string; intervals: readonly KeyInterval[] }
  /** Rows whose validity bit is clear (`nulls`), or set. */
  | { op: 'nulls'; column: string; nulls: boolean }
  | { op: 'and' | 'or'; of: readonly MaskPlan[] }
  | { op: 'not'; of: MaskPlan };

/** What planning needs to know of a column. */
export interface PlanColumn {
  name: string;
  encoding: Encoding;
  /** How its values order; absent when queries cannot read the encoding. */
  space?: KeySpace;
  /** Whether some rows are null, all of them, or none. */
  nulls: 'none' | 'some' | 'all';
  /** A `dictionary` column's values in code order. */
  dictionary?: () => readonly DictionaryValue[];
}

/** Encodings whose values a `range` compares. */
export const RANGE_ENCODINGS: readonly Encoding[] = [
  'f32',
  'f32-relative',
  'f64',
  'i32',
  'u32',
  'i64',
  'u64',
  'bool',
];

/** The plan of a checked predicate (`checkPredicate`); `column` finds a column by name or throws. */
export function planMask(predicate: Predicate, column: (name: string) => PlanColumn): MaskPlan {
  return plan(predicate, '', column);
}

function plan(p: Predicate, path: string, column: (name: string) => PlanColumn): MaskPlan {
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  if ('and' in p) return all(p.and.map((q, i) => plan(q, `${at('and')}[${i}]`, column)));
  if ('or' in p) return any(p.or.map((q, i) => plan(q, `${at('or')}[${i}]`, column)));
  if ('not' in p) return negate(plan(p.not, at('not'), column));
  const c = column(p.column);
  if ('isNull' in p) {
    if (c.nulls === 'none') return { op: p.isNull ? 'none' : 'all' };
    if (c.nulls === 'all') return { op: p.isNull ? 'all' : 'none' };
    return { op: 'nulls', column: c.name, nulls: p.isNull };
  }
  const intervals = 'range' in p ? rangeKeys(c, p.range, at('range')) : valueKeys(c, p.in, at('in'));
  if (intervals.length === 0 || c.nulls === 'all') return { op: 'none' };
  return { op: 'match', column: c.name, intervals };
}

function all(of: MaskPlan[]): MaskPlan {
  if (of.some((p) => p.op === 'none')) return { op: 'none' };
  const left = of.filter((p) => p.op !== 'all');
  if (left.length === 0) return { op: 'all' };
  return left.length === 1 ? (left[0] as MaskPlan) : { op: 'and', of: left };
}

function any(of: MaskPlan[]): MaskPlan {
  if (of.some((p) => p.op === 'all')) return { op: 'all' };
  const left = of.filter((p) => p.op !== 'none');
  if (left.length === 0) return { op: 'none' };
  return left.length === 1 ? (left[0] as MaskPlan) : { op: 'or', of: left };
}

function negate(of: MaskPlan): MaskPlan {
  if (of.op === 'all') return { op: 'none' };
  if (of.op === 'none') return { op: 'all' };
  if (of.op === 'not') return of.of;
  return { op: 'not', of };
}

function rangeKeys(
  c: PlanColumn,
  [lo, hi]: readonly [number | bigint, number | bigint],
  path: string,
): KeyInterval[] {
  const space = comparable(c, path, RANGE_ENCODINGS, 'a dictionary column takes { in: [values] }');
  const float = space.domain === 'f32' || space.domain === 'f64';
  // A double compares with a bigint as with the smallest double at or above it.
  const from = keyAtLeast(space, float && typeof lo === 'bigint' ? ceilDouble(lo) : lo);
  const to = keyAtLeast(space, float && typeof hi === 'bigint' ? ceilDouble(hi) : hi);
  return from < to ? [[from, to - 1n]] : [];
}

function valueKeys(c: PlanColumn, values: readonly PredicateValue[], path: string): KeyInterval[] {
  // A table without rows may have no dictionary at all: then no value is in it.
  if (c.encoding === 'dictionary') return codeKeys(c.dictionary?.() ?? [], values);
  const space = comparable(c, path, [...RANGE_ENCODINGS, 'dictionary'], '');
  const float = space.domain === 'f32' || space.domain === 'f64';
  const keys: KeyInterval[] = [];
  for (const [i, v] of values.entries()) {
    let x: number | bigint;
    if (typeof v === 'boolean' && c.encoding === 'bool') x = v ? 1 : 0;
    else if (typeof v === 'number' || typeof v === 'bigint') x = v;
    else {
      throw predicateError(
        `${path}[${i}]`,
        `is ${show(v)}, but column ${JSON.stringify(c.name)} (${c.encoding}) compares numbers or bigints${c.encoding === 'bool' ? ' (or true and false)' : ''}`,
        c.name,
      );
    }
    // A bigint no double equals matches no float value.
    if (float && typeof x === 'bigint') {
      const n = Number(x);
      if (!Number.isFinite(n) || BigInt(n) !== x) continue;
      x = n;
    }
    const [from, to] = keysEqual(space, x);
    if (from < to) keys.push([from, to - 1n]);
  }
  return merge(keys);
}

/** The codes of the listed values that the dictionary holds, each an interval of one key. */
function codeKeys(dictionary: readonly DictionaryValue[], values: readonly PredicateValue[]): KeyInterval[] {
  const codes = new Map<string, number>();
  for (const [code, v] of dictionary.entries()) {
    const key = v === null ? null : canonical(v);
    if (key !== null && !codes.has(key)) codes.set(key, code);
  }
  const keys: KeyInterval[] = [];
  for (const v of values) {
    const code = codes.get(canonical(v));
    if (code !== undefined) keys.push([BigInt(code), BigInt(code)]);
  }
  return merge(keys);
}

/** One string per value, equal for values that are equal (1, 1n and 1.0 alike; bytes by content). */
function canonical(v: Exclude<DictionaryValue, null>): string {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'boolean') return `o${v}`;
  if (v instanceof Uint8Array) {
    let bytes = 'b';
    for (const b of v) bytes += String.fromCharCode(b);
    return bytes;
  }
  if (typeof v === 'bigint') return `n${v}`;
  return Number.isInteger(v) ? `n${BigInt(v)}` : `n${v}`;
}

/** The key space of a column a `range`/`in` at `path` compares, or `INVALID_ARGUMENT` naming both. */
function comparable(c: PlanColumn, path: string, encodings: readonly Encoding[], hint: string): KeySpace {
  if (c.space && encodings.includes(c.encoding)) return c.space;
  const test = path.endsWith('range') ? 'a range' : 'an in list';
  throw predicateError(
    path,
    `cannot compare column ${JSON.stringify(c.name)}: its encoding is ${c.encoding}, and ${test} reads ${encodings.join(', ')}${hint ? ` (${hint})` : ''}`,
    c.name,
  );
}

/** Sorts intervals and joins those that overlap or touch. */
function merge(keys: KeyInterval[]): KeyInterval[] {
  keys.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [from, last] of keys) {
    const prev = out[out.length - 1];
    if (prev && from <= prev[1] + 1n) {
      if (last > prev[1]) prev[1] = last;
    } else out.push([from, last]);
  }
  return out;
}

const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);

/** The smallest double at or above `x`. */
export function ceilDouble(x: bigint): number {
  const n = Number(x);
  if (n === -Infinity) return -Number.MAX_VALUE;
  if (!Number.isFinite(n) || BigInt(n) >= x) return n;
  // Number() rounded down: the next double up (n is an integer here, so neither 0 nor negative zero).
  f64[0] = n;
  f64Bits[0] = n > 0 ? (f64Bits[0] as bigint) + 1n : (f64Bits[0] as bigint) - 1n;
  return f64[0] as number;
}
