import type { Data, RecordBatch } from 'apache-arrow';
import type { ColumnPlan } from './type-plan.js';

/** One planned column of a batch: its leaf data and its validity, a struct parent's nulls included. */
export interface ColumnSlice {
  data: Data;
  /** Validity bits (LSB first) starting at bit `bitOffset`; `null` when every row is valid. */
  bitmap: Uint8Array | null;
  bitOffset: number;
  nullCount: number;
}

/** The data of `plan`'s field in `batch`, following its path through structs; `undefined` if absent. */
export function leafData(batch: RecordBatch, plan: ColumnPlan): Data | undefined {
  const [top, ...rest] = plan.path;
  let data = batch.getChildAt(top as number)?.data[0] as Data | undefined;
  for (const index of rest) data = data?.children[index] as Data | undefined;
  return data;
}

/**
 * The column's slice. A struct child is null where it or any struct above it is null, so its bitmap
 * is the AND of theirs (a new bitmap only when a parent has nulls).
 */
export function columnSlice(batch: RecordBatch, plan: ColumnPlan): ColumnSlice {
  const chain: Data[] = [];
  const [top, ...rest] = plan.path;
  let data = batch.getChildAt(top as number)?.data[0] as Data;
  chain.push(data);
  for (const index of rest) {
    data = data.children[index] as Data;
    chain.push(data);
  }
  const withNulls = chain.filter((d) => d.nullCount > 0);
  if (withNulls.length === 0) return { data, bitmap: null, bitOffset: 0, nullCount: 0 };
  if (withNulls.length === 1 && withNulls[0] === data) {
    // A Null column has nulls and no bitmap: an empty one reads as all null.
    const bitmap = (data.nullBitmap as Uint8Array | undefined) ?? new Uint8Array(0);
    return { data, bitmap, bitOffset: data.offset, nullCount: data.nullCount };
  }
  return combined(data, withNulls);
}

function combined(leaf: Data, withNulls: Data[]): ColumnSlice {
  const rows = leaf.length;
  const bitmap = new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
  let nullCount = 0;
  for (let i = 0; i < rows; i++) {
    if (withNulls.every((d) => d.getValid(i))) continue;
    bitmap[i >> 3] = (bitmap[i >> 3] as number) & ~(1 << (i & 7));
    nullCount++;
  }
  return { data: leaf, bitmap, bitOffset: 0, nullCount };
}
