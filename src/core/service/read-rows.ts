import {
  type Data,
  type DataType,
  Dictionary,
  Field,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
} from 'apache-arrow';
import { DictionaryEncoder } from '../columns/encoders/dictionary-encoder.js';
import { type GatheredColumn, rebuildColumn } from '../columns/rows/rebuild-column.js';
import { maskSelection, type RowSelection, rangeSelection } from '../columns/rows/row-selection.js';
import type { GpuContext } from '../gpu/device-context.js';
import { readBack } from '../gpu/readback.js';
import { type ReadPart, readSelectedRows } from '../gpu/row-reader.js';
import type { UploadedColumn } from '../gpu/upload/table-uploader.js';
import type { LoadedTable } from '../pipeline/load.js';
import { pickColumns } from './pick-columns.js';
import { type CheckedReadRows, checkReadBytes } from './read-rows-options.js';

/**
 * Rows to keep: one bit a row over the whole table, packed as validity words (bit `i & 31` of word
 * `i >> 5`), on the CPU or in a GPU buffer (read back first). A filter's mask takes this place.
 */
export type RowMask = Uint32Array | GPUBuffer;

/**
 * The selected rows of a loaded table as Arrow IPC stream bytes: only the windows of rows around the
 * selection are read back, each column rebuilt in its schema type from its GPU words, validity and
 * dictionary. With a `mask`, `offset` and `limit` count the rows it keeps.
 */
export async function readRowsIpc(
  context: GpuContext,
  table: LoadedTable,
  request: CheckedReadRows,
  mask?: RowMask,
): Promise<Uint8Array> {
  const columns = pickColumns(table.columns, request.columns);
  checkReadBytes(columns, request.limit);
  const selection = await selectRows(context, table.numRows, request, mask);
  const parts = columns.flatMap(partsOf);
  const read = await readSelectedRows(context.device, context.tracker, parts, selection);
  const data = columns.map((column) => {
    const wordsOf = (role: ColumnPart['role']) => {
      const at = parts.findIndex((p) => p.column === column && p.role === role);
      return at < 0 ? null : (read[at] as Uint32Array);
    };
    const words = wordsOf('values') ?? new Uint32Array(0);
    return rebuildColumn(gathered(column, selection.rows, words, wordsOf('validity')));
  });
  return RecordBatchStreamWriter.writeAll([batchOf(columns, data, selection.rows)]).toUint8Array(true);
}

/** The rows `request` selects, among all rows or those `mask` keeps. */
async function selectRows(
  context: GpuContext,
  numRows: number,
  { offset, limit }: CheckedReadRows,
  mask: RowMask | undefined,
): Promise<RowSelection> {
  if (mask === undefined) return rangeSelection(numRows, offset, limit);
  const words =
    mask instanceof Uint32Array
      ? mask
      : new Uint32Array(
          await readBack(context.device, context.tracker, mask, Math.ceil(numRows / 32) * 4, 'row mask'),
        );
  return maskSelection(words, numRows, offset, limit);
}

/** The ids of the dictionaries in `type` and below it. */
function nestedIds(type: DataType): number[] {
  const own = type instanceof Dictionary ? [type.id, ...nestedIds(type.dictionary)] : [];
  return [...own, ...(type.children ?? []).flatMap((child: Field) => nestedIds(child.type))];
}

/** A column's value or validity buffers, to read. */
interface ColumnPart extends ReadPart {
  column: UploadedColumn;
  role: 'values' | 'validity';
}

/** What to read of a column: its value words (none for `null`), its validity words when it has nulls. */
function partsOf(column: UploadedColumn): ColumnPart[] {
  const { plan } = column;
  const parts: ColumnPart[] = [];
  if (plan.components > 0) {
    const wordsPerRow = plan.encoding === 'bool' ? 0 : plan.components;
    parts.push({ column, role: 'values', chunks: column.values, wordsPerRow });
  }
  if (column.validity) parts.push({ column, role: 'validity', chunks: column.validity, wordsPerRow: 0 });
  return parts;
}

/** A column's rows as read, with what its encoding adds (a relative offset, a dictionary). */
function gathered(
  column: UploadedColumn,
  rows: number,
  words: Uint32Array,
  validity: Uint32Array | null,
): GatheredColumn {
  const out: GatheredColumn = { plan: column.plan, rows, words, validity };
  if (column.extras.offset !== undefined) out.offset = column.extras.offset;
  if (column.encoder instanceof DictionaryEncoder) out.dictionary = column.encoder.rawValues();
  return out;
}

/**
 * One record batch of the columns under their flattened names, duplicates included (apache-arrow's
 * RecordBatch merges fields of one name when it builds its schema, so the schema is set back after).
 * A Dictionary column keeps its id unless another column took it first, or a dictionary nested in some
 * column's values has it: the IPC stream holds one dictionary per id, and each column's holds only its
 * own rows' values, so such a column gets the next free id.
 */
function batchOf(columns: readonly UploadedColumn[], data: Data[], rows: number): RecordBatch {
  const taken = new Set(
    data.flatMap((d) => (d.type instanceof Dictionary ? nestedIds(d.type.dictionary) : [])),
  );
  let nextId =
    Math.max(-1, ...taken, ...data.map((d) => (d.type instanceof Dictionary ? d.type.id : -1))) + 1;
  const children = data.map((d) => {
    if (!(d.type instanceof Dictionary)) return d;
    if (!taken.has(d.type.id)) {
      taken.add(d.type.id);
      return d;
    }
    const type = new Dictionary(d.type.dictionary, d.type.indices, nextId++, d.type.isOrdered);
    return d.clone(type as DataType);
  });
  const fields = columns.map(({ plan }, i) => {
    const type = (children[i] as Data).type;
    return type === plan.field.type
      ? plan.field
      : new Field(plan.field.name, type, plan.field.nullable, plan.field.metadata);
  });
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: rows, nullCount: 0, children } as never);
  const batch = new RecordBatch(schema, struct as never);
  (batch as { schema: Schema }).schema = schema;
  return batch;
}
