import { type Data, type RecordBatch, Type } from 'apache-arrow';
import { bitAt } from './encoders/byte-keys.js';
import { expandValidity, RunEnds } from './run-ends.js';
import type { ColumnPlan } from './type-plan.js';

/** One planned column of a batch: its leaf data and its validity, a struct parent's nulls included. */
export interface ColumnSlice {
  data: Data;
  /** Validity bits (LSB first) starting at bit `bitOffset`; `null` when every row is valid. */
  bitmap: Uint8Array | null;
  bitOffset: number;
  nullCount: number;
  /**
   * The column's GPU words for every row of the batch, already encoded (by a decode worker) when its
   * encoding needs no earlier batch; `data` then holds only its type and length.
   */
  words?: Uint8Array | null;
  /**
   * Where the column's words for every row of the batch lie in the source, already in GPU form, when
   * the uploader reads them from there itself (a file in Node, straight into staging memory).
   */
  sourceWords?: SourceRange | null;
}

/** Bytes of a load's source, by position. */
export interface SourceRange {
  position: number;
  byteLength: number;
}

/** A batch as columns already sliced (and partly encoded) off the loader thread, in plan order. */
export interface PreparedBatch {
  numRows: number;
  slices: ColumnSlice[];
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
 * is the AND of theirs (a new bitmap only when a parent has nulls). A `vector` row is null where any of
 * its elements is: the GPU has no validity per element, and a null element's slot holds no value.
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
  return chainSlice(chain, plan);
}

/** The slice of the column whose data is `chain`'s last, the structs above it first (see `columnSlice`). */
export function chainSlice(chain: readonly Data[], plan: ColumnPlan): ColumnSlice {
  const data = chain[chain.length - 1] as Data;
  if (plan.runEndEncoded) return runEndSlice(data, chain.slice(0, -1), plan);
  const withNulls = chain.filter((d) => d.nullCount > 0);
  const elements = plan.encoding === 'vector' ? elementsValid(data, plan.listSize as number) : null;
  if (withNulls.length === 0 && !elements) return { data, bitmap: null, bitOffset: 0, nullCount: 0 };
  if (!elements && withNulls.length === 1 && withNulls[0] === data) {
    // A Null column has nulls and no bitmap: an empty one reads as all null.
    const bitmap = (data.nullBitmap as Uint8Array | undefined) ?? new Uint8Array(0);
    return { data, bitmap, bitOffset: data.offset, nullCount: data.nullCount };
  }
  return combined(data, (i) => withNulls.every((d) => d.getValid(i)) && (elements?.(i) ?? true));
}

/** Whether every element of a fixed-size list's row is valid; `null` when its child has no nulls. */
function elementsValid(data: Data, listSize: number): ((row: number) => boolean) | null {
  const child = data.children[0] as Data | undefined;
  if (!child || child.nullCount === 0) return null;
  return (row) => {
    for (let j = 0; j < listSize; j++) if (!child.getValid(row * listSize + j)) return false;
    return true;
  };
}

/**
 * A RunEndEncoded column's slice (`data` the struct of its run ends and values, under the structs of
 * `parents`): a row is null where its run's value is (a `vector` value with a null element included),
 * or where a struct above it is.
 */
function runEndSlice(data: Data, parents: Data[], plan: ColumnPlan): ColumnSlice {
  const runs = new RunEnds(data);
  const values = runs.values;
  const withNulls = parents.filter((d) => d.nullCount > 0);
  const elements = plan.encoding === 'vector' ? elementsValid(values, plan.listSize as number) : null;
  // Every value of a Null child is null, whatever its node says.
  const isNull = values.type.typeId === Type.Null;
  if (withNulls.length === 0 && values.nullCount === 0 && !isNull && !elements) {
    return { data, bitmap: null, bitOffset: 0, nullCount: 0 };
  }
  const valid = (run: number) => !isNull && values.getValid(run) && (elements?.(run) ?? true);
  const expanded = expandValidity(runs, data.length, valid);
  if (withNulls.length === 0) return { data, ...expanded, bitOffset: 0 };
  return combined(data, (i) => bitAt(expanded.bitmap, i) && withNulls.every((d) => d.getValid(i)));
}

function combined(leaf: Data, valid: (row: number) => boolean): ColumnSlice {
  const rows = leaf.length;
  const bitmap = new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
  let nullCount = 0;
  for (let i = 0; i < rows; i++) {
    if (valid(i)) continue;
    bitmap[i >> 3] = (bitmap[i >> 3] as number) & ~(1 << (i & 7));
    nullCount++;
  }
  return { data: leaf, bitmap, bitOffset: 0, nullCount };
}
