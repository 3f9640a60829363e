import type { Data } from 'apache-arrow';
import { valuesOf } from './column-encoder.js';

/** The lo and hi 32-bit words of a 64-bit integer column, read without a BigInt per row. */
export interface Int64Words {
  lo: Uint32Array;
  hi: Int32Array | Uint32Array;
  /** Index of the source row `first` in `lo`/`hi`. */
  start: number;
}

/** Word views of rows of an Int64-like column (Int64, Uint64, Timestamp, Date64, Time64, Duration). */
export function int64Words(data: Data, first: number, count: number, signed: boolean): Int64Words {
  const values = valuesOf(data);
  const start = first;
  const words = (start + count) * 2;
  const lo = new Uint32Array(values.buffer, values.byteOffset, words);
  const hi = signed ? new Int32Array(values.buffer, values.byteOffset, words) : lo;
  return { lo, hi, start };
}

/** The 64-bit integer at row `i` of `words` as a double (rounded beyond 2^53). */
export function int64At({ lo, hi, start }: Int64Words, i: number): number {
  const at = (start + i) * 2;
  return (hi[at + 1] as number) * 2 ** 32 + (lo[at] as number);
}

/** Whether a column's values are 64-bit integers (as opposed to doubles). */
export function isInt64Values(data: Data): boolean {
  const values = valuesOf(data);
  return values instanceof BigInt64Array || values instanceof BigUint64Array;
}

/** Whether a 64-bit integer column is signed. */
export function isSigned(data: Data): boolean {
  return !(valuesOf(data) instanceof BigUint64Array);
}
