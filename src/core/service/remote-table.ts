import { type Field, RecordBatchReader, RecordBatchStreamWriter, Schema } from 'apache-arrow';
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
    columns: remoteColumns(table.columns),
    skipped: table.skipped,
    stats: table.stats,
  };
}

/** Where a chunk lies (its rows and bytes), without its buffer or id. */
export function chunkPlace({ rowOffset, rows, byteLength }: ColumnChunk): ColumnChunk {
  return { rowOffset, rows, byteLength };
}

/** What a column is but for its plan and encoder, its chunks mapped by `place`. */
function withChunks<A, B>(
  column: {
    values: readonly A[];
    validity: readonly A[] | null;
    nullCount: number;
    extras: UploadedColumn['extras'];
  },
  place: (chunk: A) => B,
): { values: B[]; validity: B[] | null; nullCount: number; extras: UploadedColumn['extras'] } {
  const { values, validity, nullCount, extras } = column;
  return { values: values.map(place), validity: validity?.map(place) ?? null, nullCount, extras };
}

/** Columns on the caller's device as plain data, their buffers by id (a table's, or a loading table's update). */
export function remoteColumns(columns: readonly UploadedColumn[]): RemoteColumn[] {
  return columns.map(remoteColumn);
}

function remoteColumn(column: UploadedColumn): RemoteColumn {
  const { field: _field, ...plan } = column.plan;
  const { encoder } = column;
  return {
    plan,
    ...withChunks(column, (c: BufferChunk) => ({ ...chunkPlace(c), id: remoteIdOf(c.buffer) })),
    ...(encoder instanceof DictionaryEncoder
      ? { dictionary: { values: encoder.rawValues(), text: encoder.text } }
      : {}),
  };
}

/** The schema fields of a `RemoteTableSpec`, in column order. */
export function fieldsOf(spec: RemoteTableSpec): Field[] {
  const reader = RecordBatchReader.from(spec.fields);
  reader.open();
  return reader.schema.fields;
}

/**
 * Columns on the caller's thread: their chunks' buffers (from `bufferOf`), their schema fields and
 * their dictionaries, so that queries and reads run there as they would in the worker.
 */
export function columnsOnDevice(
  columns: readonly RemoteColumn[],
  fields: readonly Field[],
  bufferOf: (id: number) => GPUBuffer,
): UploadedColumn[] {
  const place = (c: RemoteChunk) => ({ ...chunkPlace(c), buffer: bufferOf(c.id) });
  return columns.map((column, i): UploadedColumn => {
    const plan = { ...column.plan, field: fields[i] } as ColumnPlan;
    const { dictionary } = column;
    const options = { column: plan.name, maxDictionary: Number.POSITIVE_INFINITY };
    return {
      plan,
      ...withChunks(column, place),
      encoder: dictionary ? DictionaryEncoder.restore(options, dictionary.values, dictionary.text) : null,
    };
  });
}
