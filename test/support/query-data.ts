import {
  Bool,
  type DataType,
  Float32,
  Float64,
  Int32,
  Int64,
  Table,
  TimestampMillisecond,
  tableToIPC,
  Uint32,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { xorshift } from './mutate.js';

/** A source value as the test generated it (null: a null row). */
export type SourceValue = number | bigint | boolean | string | null;

/** Columns of every encoding queries read, with their source values. */
export interface QueryData {
  rows: number;
  bytes: Uint8Array;
  values: Record<string, SourceValue[]>;
}

/** What `load` encodings the query columns need beyond the defaults. */
export const QUERY_ENCODINGS = { f64: 'f64', ts: 'f32-relative' } as const;

const CITIES = ['Oslo', 'Lyon', 'Porto', 'Turku', 'Ghent', 'Bergen', 'Nantes'];

/**
 * `rows` rows with nulls in every nullable column, NaN and ±Infinity in the float ones, full-range
 * integers, an all-null column and one without nulls.
 */
export function queryData(rows: number, seed = 7): QueryData {
  const random = xorshift(seed);
  const maybe = <T>(nulls: number, make: () => T): Array<T | null> =>
    Array.from({ length: rows }, () => (random() < nulls ? null : make()));
  const float = (scale: number) => () => {
    const r = random();
    if (r < 0.03) return Number.NaN;
    if (r < 0.04) return Infinity;
    if (r < 0.05) return -Infinity;
    return (random() - 0.5) * scale;
  };
  const u64 = () => (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  const values: Record<string, SourceValue[]> = {
    f32: maybe(0.1, float(1e6)).map((v) => (v === null ? null : Math.fround(v))),
    f64: maybe(0.1, float(1e12)),
    i32: maybe(0.1, () => Math.floor(random() * 2 ** 32) - 2 ** 31),
    u32: maybe(0, () => Math.floor(random() * 2 ** 32)),
    i64: maybe(0.1, () => BigInt.asIntN(64, u64())),
    u64: maybe(0.1, u64),
    flag: maybe(0.1, () => random() < 0.3),
    city: maybe(0.1, () => CITIES[Math.floor(random() * CITIES.length)] as string),
    ts: maybe(0.1, () => 1767225600000 + Math.floor(random() * 86_400_000)),
    empty: maybe(1, () => 0),
  };
  const types: Record<string, DataType> = {
    f32: new Float32(),
    f64: new Float64(),
    i32: new Int32(),
    u32: new Uint32(),
    i64: new Int64(),
    u64: new Uint64(),
    flag: new Bool(),
    city: new Utf8(),
    ts: new TimestampMillisecond(),
    empty: new Float32(),
  };
  const vectors = Object.fromEntries(
    Object.entries(values).map(([name, v]) => [name, vectorFromArray(v as never[], types[name] as DataType)]),
  );
  return { rows, bytes: tableToIPC(new Table(vectors), 'stream'), values };
}

/** A describe result computed on the CPU from the source values (floats summed exactly enough, in f64). */
export interface ReferenceSummary {
  rows: number;
  count: number;
  nullCount: number;
  nanCount: number;
  min: number | bigint | null;
  max: number | bigint | null;
  sum: number | bigint | null;
  /** Σ|v| over finite values: what the float sum's error bound scales with. */
  magnitude: number;
}

/** The summary of `values` (numbers, bigints, booleans as 0/1, or dictionary codes) over rows `keep` selects. */
export function referenceSummary(
  values: ReadonlyArray<number | bigint | null>,
  keep: (row: number) => boolean = () => true,
): ReferenceSummary {
  const r: ReferenceSummary = {
    rows: 0,
    count: 0,
    nullCount: 0,
    nanCount: 0,
    min: null,
    max: null,
    sum: 0,
    magnitude: 0,
  };
  let bigSum = 0n;
  let big = false;
  let posInf = false;
  let negInf = false;
  for (const [row, v] of values.entries()) {
    if (!keep(row)) continue;
    r.rows++;
    if (v === null) r.nullCount++;
    else if (typeof v === 'number' && Number.isNaN(v)) r.nanCount++;
    else {
      r.count++;
      if (r.min === null || v < r.min) r.min = v;
      if (r.max === null || v > r.max) r.max = v;
      if (typeof v === 'bigint') {
        big = true;
        bigSum += v;
      } else if (v === Infinity) posInf = true;
      else if (v === -Infinity) negInf = true;
      else {
        r.sum = (r.sum as number) + v;
        r.magnitude += Math.abs(v);
      }
    }
  }
  if (big) r.sum = bigSum;
  else if (posInf && negInf) r.sum = Number.NaN;
  else if (posInf) r.sum = Infinity;
  else if (negInf) r.sum = -Infinity;
  return r;
}
