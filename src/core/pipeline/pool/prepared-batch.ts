import { Data, type DataType, type Field, Int32, type Schema, Vector } from 'apache-arrow';
import type { ColumnSlice, PreparedBatch } from '../../columns/column-data.js';
import { joinDictionary } from '../../columns/local-dictionary.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { type PackedData, unpackData } from './pack-data.js';
import type { WireBatch, WireColumn } from './protocol.js';

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
      ? unpackColumn(type, column, dictionaries)
      : new Data(type, 0, batch.numRows, 0, undefined as never);
    return { data, bitmap, bitOffset, nullCount, words, sourceWords: sourceWords ?? null };
  });
  return { numRows: batch.numRows, slices };
}

/**
 * A column's Arrow data; one a worker coded into a dictionary of its own comes as Arrow's dictionary
 * type, into that dictionary as it stands after this batch's values are appended (batches come in source
 * order, so a worker's dictionary grows here in the order it grew there).
 */
function unpackColumn(type: DataType, column: WireColumn, dictionaries: Map<string, Vector>): Data {
  if (!column.dictionary) return unpackData(type, column.data as PackedData, dictionaries);
  const codes = unpackData(new Int32(), column.data as PackedData, dictionaries) as Data<Int32>;
  const { key, added, replaces } = column.dictionary;
  if (replaces !== null) dictionaries.delete(replaces);
  const values = unpackData(type, added, dictionaries);
  const known = dictionaries.get(key);
  let dictionary = known ?? new Vector([values]);
  if (known && values.length > 0) dictionary = known.concat(new Vector([values]));
  dictionaries.set(key, dictionary);
  return joinDictionary(type, codes, dictionary);
}
