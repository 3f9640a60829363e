import type { Predicate, PredicateValue } from '../../src/types.js';

/** A value as a table holds it on the CPU side of a test: null for a null row, bytes for binary. */
export type RowValue = number | bigint | boolean | string | Uint8Array | null;

/**
 * Whether a row passes `predicate`, by the documented rules, from the values the GPU holds (`value`
 * gives a column's value at the row): null is outside every range and in list, NaN too; `not` keeps
 * what its operand does not (null rows included); an empty `and` keeps the row, an empty `or` does not.
 */
export function evaluate(predicate: Predicate, value: (column: string) => RowValue): boolean {
  if ('and' in predicate) return predicate.and.every((p) => evaluate(p, value));
  if ('or' in predicate) return predicate.or.some((p) => evaluate(p, value));
  if ('not' in predicate) return !evaluate(predicate.not, value);
  const v = value(predicate.column);
  if ('isNull' in predicate) return (v === null) === predicate.isNull;
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return false;
  if ('range' in predicate) {
    const x = typeof v === 'boolean' ? Number(v) : v;
    if (typeof x === 'string' || x instanceof Uint8Array) throw new Error('a range over text or bytes');
    const [lo, hi] = predicate.range;
    // Comparisons of a bigint with a number are exact in JavaScript.
    return lo <= x && x < hi;
  }
  return predicate.in.some((w) => same(v, w));
}

/** Equality as `in` means it: numbers and bigints by value, booleans as 0/1, text and bytes by content. */
export function same(v: Exclude<RowValue, null>, w: PredicateValue): boolean {
  if (v instanceof Uint8Array || w instanceof Uint8Array) {
    return (
      v instanceof Uint8Array &&
      w instanceof Uint8Array &&
      v.length === w.length &&
      v.every((b, i) => b === w[i])
    );
  }
  if (typeof v === 'string' || typeof w === 'string') return v === w;
  const x = typeof v === 'boolean' ? Number(v) : v;
  const y = typeof w === 'boolean' ? Number(w) : w;
  // Loose equality compares a bigint with a number exactly (2n ** 53n + 1n == 2 ** 53 is false).
  // biome-ignore lint/suspicious/noDoubleEquals: the exact mixed comparison is the point
  return x == y;
}

/** Rows `keep` selects as a row mask: bit i & 31 of word i >> 5, at least one word. */
export function maskOf(rows: number, keep: (row: number) => boolean): Uint32Array {
  const words = new Uint32Array(Math.max(1, Math.ceil(rows / 32)));
  for (let i = 0; i < rows; i++)
    if (keep(i)) words[i >> 5] = ((words[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  return words;
}

/** How a random predicate may test a column. */
export interface ColumnTests {
  /** The values the column holds (as `evaluate` reads them), to draw bounds and lists from. */
  values: readonly RowValue[];
  range: boolean;
  /** Other values for `in` lists (of the column's kind or not, present in it or not). */
  others: readonly PredicateValue[];
  /** Bounds beyond the values, of its kind (±Infinity, huge bigints). */
  extremes: readonly (number | bigint)[];
}

/**
 * A random predicate of at most `depth` levels of and/or/not over `columns`: bounds and `in` values
 * mostly drawn from the columns' own values, so that edges land on stored values.
 */
export function randomPredicate(
  columns: Record<string, ColumnTests>,
  random: () => number,
  depth: number,
): Predicate {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const r = random();
  if (depth > 0 && r < 0.35) {
    const n = Math.floor(random() * 4);
    const of = Array.from({ length: n }, () => randomPredicate(columns, random, depth - 1));
    const form = pick(['and', 'or', 'not'] as const);
    if (form === 'not') return { not: randomPredicate(columns, random, depth - 1) };
    return form === 'and' ? { and: of } : { or: of };
  }
  const column = pick(Object.keys(columns));
  const tests = columns[column] as ColumnTests;
  const present = tests.values.filter((v): v is Exclude<RowValue, null> => v !== null);
  const value = (): PredicateValue => {
    if (present.length === 0 || random() < 0.15) return pick(tests.others);
    const v = pick(present);
    return typeof v === 'number' && Number.isNaN(v) ? pick(tests.others) : v;
  };
  const bound = (): number | bigint => {
    const v = random() < 0.2 || present.length === 0 ? pick(tests.extremes) : pick(present);
    if (typeof v === 'boolean') return Number(v);
    if (typeof v === 'number' && Number.isNaN(v)) return pick(tests.extremes);
    return v as number | bigint;
  };
  const kind = random();
  if (kind < 0.15) return { column, isNull: random() < 0.5 };
  if (tests.range && kind < 0.65) {
    const a = bound();
    const b = bound();
    // Mostly ordered, sometimes reversed (an empty range).
    return { column, range: random() < 0.9 && b < a ? [b, a] : [a, b] };
  }
  return { column, in: Array.from({ length: 1 + Math.floor(random() * 4) }, value) };
}

/** A predicate printed for a failure message (bigints and bytes as text). */
export function printPredicate(predicate: Predicate): string {
  return JSON.stringify(predicate, (_key, v) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v instanceof Uint8Array ? `bytes(${Array.from(v)})` : v;
  });
}
