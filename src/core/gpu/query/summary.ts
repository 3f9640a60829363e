import type { ColumnSummary } from '../../../types.js';
import type { FiniteExtent } from './bin-options.js';
import { PARTIAL_WORDS } from './describe-kernel.js';
import { valueOfKey } from './ordered-keys.js';
import type { QueryColumn } from './query-column.js';

/** The partial records of every workgroup, combined. */
export interface Totals {
  finite: number;
  nans: number;
  posInf: number;
  negInf: number;
  nulls: number;
  minKey: bigint;
  maxKey: bigint;
  /** Keys of the smallest and largest finite values (meaningful when `finite` > 0). */
  finiteMinKey: bigint;
  finiteMaxKey: bigint;
  /** The integer sum, exact (each record's 128 bits read as two's complement for signed columns). */
  wide: bigint;
  /** The float sum: each record's f32 partial, added in f64. */
  float: number;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** Adds up the workgroups' records exactly on the CPU (BigInt for keys and integer sums). */
export function combinePartials(column: QueryColumn, words: Uint32Array): Totals {
  const signed = column.space.domain === 'signed';
  const t: Totals = {
    ...{ finite: 0, nans: 0, posInf: 0, negInf: 0, nulls: 0, float: 0 },
    ...{ minKey: (1n << 64n) - 1n, maxKey: 0n, wide: 0n },
    ...{ finiteMinKey: (1n << 64n) - 1n, finiteMaxKey: 0n },
  };
  const pair = (at: number) => (BigInt(words[at] as number) << 32n) | BigInt(words[at + 1] as number);
  for (let at = 0; at + PARTIAL_WORDS <= words.length; at += PARTIAL_WORDS) {
    const finite = words[at] as number;
    const posInf = words[at + 2] as number;
    const negInf = words[at + 3] as number;
    t.finite += finite;
    t.nans += words[at + 1] as number;
    t.posInf += posInf;
    t.negInf += negInf;
    t.nulls += words[at + 13] as number;
    if (finite + posInf + negInf === 0) continue;
    const min = pair(at + 4);
    const max = pair(at + 6);
    if (min < t.minKey) t.minKey = min;
    if (max > t.maxKey) t.maxKey = max;
    if (finite > 0) {
      const finiteMin = pair(at + 14);
      const finiteMax = pair(at + 16);
      if (finiteMin < t.finiteMinKey) t.finiteMinKey = finiteMin;
      if (finiteMax > t.finiteMaxKey) t.finiteMaxKey = finiteMax;
    }
    let wide = 0n;
    for (let k = 3; k >= 0; k--) wide = (wide << 32n) | BigInt(words[at + 8 + k] as number);
    t.wide += signed ? BigInt.asIntN(128, wide) : wide;
    f32Bits[0] = words[at + 12] as number;
    t.float += f32[0] as number;
  }
  return t;
}

/** The summary of a column from its combined totals. */
export function summarize(column: QueryColumn, t: Totals): ColumnSummary {
  const count = t.finite + t.posInf + t.negInf;
  const rows = count + t.nans + t.nulls;
  const value = (key: bigint) => (count > 0 ? valueOfKey(column.space, key, column.wide) : null);
  const sum = sumOf(column, t);
  const mean = count > 0 && sum !== null ? Number(sum) / count : null;
  return {
    rows,
    count,
    nullCount: t.nulls,
    nanCount: t.nans,
    min: value(t.minKey),
    max: value(t.maxKey),
    sum,
    mean,
  };
}

function sumOf(column: QueryColumn, t: Totals): number | bigint | null {
  if (column.encoding === 'dictionary') return null;
  if (column.integer) return t.wide;
  if (column.encoding === 'bool') return Number(t.wide);
  // Infinities never reach the f32 sum (a shader may assume there are none): they decide it here.
  if (t.posInf > 0 && t.negInf > 0) return Number.NaN;
  if (t.posInf > 0) return Infinity;
  if (t.negInf > 0) return -Infinity;
  return t.float + t.finite * (column.space.offset ?? 0);
}

/** The smallest and largest finite values of the totals' rows, or `null` when there is none. */
export function finiteExtent(column: QueryColumn, t: Totals): FiniteExtent | null {
  if (t.finite === 0) return null;
  return {
    min: valueOfKey(column.space, t.finiteMinKey, column.wide),
    max: valueOfKey(column.space, t.finiteMaxKey, column.wide),
  };
}
