import { Data, type DataType, type Field, type Schema, type Vector } from 'apache-arrow';
import type { ColumnSlice, PreparedBatch } from '../../columns/column-data.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { unpackData } from './pack-data.js';
import type { WireBatch } from './protocol.js';

/** The Arrow type of a planned column's leaf in `schema` (through its structs), as apache-arrow decodes it. */
export function leafType(schema: Schema, plan: ColumnPlan): DataType {
  const [top, ...rest] = plan.path;
  let type = (schema.fields[top as number] as Field).type as DataType;
  for (const index of rest) type = (type.children[index] as Field).type;
  return type;
}

/**
 * A worker's batch as the uploader takes it: encoded columns keep their words (their data only a type
 * and a length), the others get their Arrow data back, dictionaries shared by key across batches.
 */
export function prepareBatch(
  batch: WireBatch,
  types: readonly DataType[],
  dictionaries: Map<string, Vector>,
): PreparedBatch {
  const slices = batch.columns.map((column, i): ColumnSlice => {
    const type = types[i] as DataType;
    const { words, sourceWords, bitmap, bitOffset, nullCount } = column;
    const data = column.data
      ? unpackData(type, column.data, dictionaries)
      : new Data(type, 0, batch.numRows, 0, undefined as never);
    return { data, bitmap, bitOffset, nullCount, words, sourceWords: sourceWords ?? null };
  });
  return { numRows: batch.numRows, slices };
}
