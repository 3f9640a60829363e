import { RecordBatchReader, RecordBatchStreamWriter, Schema } from 'apache-arrow';
import { DictionaryEncoder, type DictionaryValue } from '../columns/encoders/dictionary-encoder.js';
import type { ColumnPlan } from '../columns/type-plan.js';
import type { ColumnChunk } from '../gpu/chunked-buffer.js';
import { remoteIdOf } from '../gpu/remote/remote-buffer.js';
import type { BufferChunk, UploadedColumn } from '../gpu/upload/table-uploader.js';
import type { LoadedTable } from '../pipeline/load.js';

/** A chunk of a column on the caller's device, named by the id its buffer was made under. */
export interface RemoteChunk extends ColumnChunk {
  id: number;
}

/** One column of a table on the caller's device, as plain data (its schema field travels in `fields`). */
export interface RemoteColumn {
  plan: Omit<ColumnPlan, 'field'>;
  values: RemoteChunk[];
  validity: RemoteChunk[] | null;
  nullCount: number;
  extras: UploadedColumn['extras'];
  /** A dictionary column's values as its encoder keeps them (`text`: byte values are strings). */
  dictionary?: { values: readonly DictionaryValue[]; text: boolean };
}

/** What the caller's thread needs to query and read a table the worker loaded onto the caller's device. */
export interface RemoteTableSpec {
  numRows: number;
  /** The columns' schema fields, in column order, as an Arrow IPC stream holding only a schema. */
  fields: Uint8Array;
  columns: RemoteColumn[];
  skipped: LoadedTable['skipped'];
  stats: LoadedTable['stats'];
}

/** The plain-data description of a table loaded (in the worker) onto the caller's device. */
export function remoteTableSpec(table: LoadedTable): RemoteTableSpec {
  const writer = new RecordBatchStreamWriter();
  writer.reset(undefined, new Schema(table.columns.map((c) => c.plan.field)));
  writer.close();
  return {
    numRows: table.numRows,
    fields: writer.toUint8Array(true),
    columns: table.columns.map(remoteColumn),
    skipped: table.skipped,
    stats: table.stats,
  };
}

function remoteColumn(column: UploadedColumn): RemoteColumn {
  const { field: _field, ...plan } = column.plan;
  const chunks = (list: readonly BufferChunk[]) =>
    list.map(({ buffer, rowOffset, rows, byteLength }) => ({
      id: remoteIdOf(buffer),
      rowOffset,
      rows,
      byteLength,
    }));
  const { encoder } = column;
  return {
    plan,
    values: chunks(column.values),
    validity: column.validity && chunks(column.validity),
    nullCount: column.nullCount,
    extras: column.extras,
    ...(encoder instanceof DictionaryEncoder
      ? { dictionary: { values: encoder.rawValues(), text: encoder.text } }
      : {}),
  };
}

/**
 * The table of `spec` on the caller's thread: its chunks' buffers (from `bufferOf`), its schema fields
 * and its dictionaries, so that queries and reads run there as they would in the worker.
 */
export function tableOnDevice(spec: RemoteTableSpec, bufferOf: (id: number) => GPUBuffer): LoadedTable {
  const reader = RecordBatchReader.from(spec.fields);
  reader.open();
  const fields = reader.schema.fields;
  const chunks = (list: readonly RemoteChunk[]) =>
    list.map(({ id, rowOffset, rows, byteLength }) => ({
      buffer: bufferOf(id),
      rowOffset,
      rows,
      byteLength,
    }));
  const columns = spec.columns.map((column, i): UploadedColumn => {
    const plan = { ...column.plan, field: fields[i] } as ColumnPlan;
    const { dictionary } = column;
    const options = { column: plan.name, maxDictionary: Number.POSITIVE_INFINITY };
    return {
      plan,
      values: chunks(column.values),
      validity: column.validity && chunks(column.validity),
      nullCount: column.nullCount,
      extras: column.extras,
      encoder: dictionary ? DictionaryEncoder.restore(options, dictionary.values, dictionary.text) : null,
    };
  });
  return { numRows: spec.numRows, columns, skipped: spec.skipped, stats: spec.stats };
}
