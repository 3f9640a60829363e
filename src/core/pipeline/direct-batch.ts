import { type Data, type DataType, makeData, type Schema, Type } from 'apache-arrow';
import { checkColumn } from '../columns/check-batch.js';
import { type ColumnSlice, chainSlice, type PreparedBatch } from '../columns/column-data.js';
import type { ColumnPlan } from '../columns/type-plan.js';
import type { DirectRead } from '../ipc/decode.js';
import type { FramedMessage } from '../ipc/framer.js';
import type { BatchShape } from '../ipc/metadata/record-batch.js';
import type { SchemaLayout } from '../ipc/metadata/schema.js';

/**
 * Body buffers apache-arrow reads for a column of each flat type (its `VectorLoader`): the validity
 * bitmap, then the offsets of variable-size types, then the values; a Null column has none.
 */
const FLAT_BUFFERS = new Map<Type, number>([
  [Type.Null, 0],
  [Type.Bool, 2],
  [Type.Int, 2],
  [Type.Float, 2],
  [Type.Decimal, 2],
  [Type.Date, 2],
  [Type.Time, 2],
  [Type.Timestamp, 2],
  [Type.Interval, 2],
  [Type.Duration, 2],
  [Type.FixedSizeBinary, 2],
  [Type.Utf8, 3],
  [Type.LargeUtf8, 3],
  [Type.Binary, 3],
  [Type.LargeBinary, 3],
]);

/** Where a planned column lies in each record batch of its schema: its field node and first body buffer. */
interface DirectColumn {
  plan: ColumnPlan;
  type: DataType;
  node: number;
  buffer: number;
  buffers: number;
}

/**
 * A reader of record batches that makes the planned columns' data straight from the body, as
 * apache-arrow's reader would make it (the same `makeData` of the same views) but without decoding the
 * message again nor building the batch's other columns, its `RecordBatch` and `Vector`s: with small
 * batches those took a fifth of the loader's thread. Only for top-level columns of flat types in a
 * little-endian schema without view types; `null` for any other plan, whose batches apache-arrow reads.
 * Each batch's columns are checked as `checkBatch` checks apache-arrow's.
 */
export function directReader(
  schema: Schema,
  layout: SchemaLayout | null,
  plans: readonly ColumnPlan[],
  url: string,
): DirectRead<PreparedBatch> | null {
  if (!layout || layout.bigEndian || layout.layout.some((node) => node.variadic)) return null;
  const firstBuffer: number[] = [];
  let buffers = 0;
  for (const node of layout.layout) {
    firstBuffer.push(buffers);
    buffers += node.buffers.length;
  }
  const columns: DirectColumn[] = [];
  for (const plan of plans) {
    const column = directColumn(schema, layout, firstBuffer, plan);
    if (!column) return null;
    columns.push(column);
  }
  return (message, index) =>
    readBatch(message, columns, { url, batch: index, byteOffset: message.byteOffset });
}

/** Where `plan`'s column lies, when it is a top-level column of a flat type laid out as apache-arrow reads it. */
function directColumn(
  schema: Schema,
  layout: SchemaLayout,
  firstBuffer: readonly number[],
  plan: ColumnPlan,
): DirectColumn | null {
  if (plan.path.length !== 1 || plan.runEndEncoded || plan.encoding === 'vector') return null;
  const top = plan.path[0] as number;
  const type = schema.fields[top]?.type as DataType | undefined;
  const node = layout.topLevelNodes[top];
  const buffers = type && FLAT_BUFFERS.get(type.typeId);
  if (type === undefined || node === undefined || buffers === undefined) return null;
  if (layout.layout[node]?.buffers.length !== buffers) return null;
  return { plan, type, node, buffer: firstBuffer[node] as number, buffers };
}

/** A batch's planned columns read from its body; `null` (left to apache-arrow) when compressed or unread. */
function readBatch(
  message: FramedMessage,
  columns: readonly DirectColumn[],
  origin: { url: string; batch: number; byteOffset: number },
): PreparedBatch | null {
  const shape = message.header.batch;
  if (!shape || shape.compression !== null || message.deferred) return null;
  const rows = message.header.rows;
  // As apache-arrow's reader: a body not 8-byte aligned (a view into a chunk) is copied, for typed arrays.
  const body = message.body.byteOffset % 8 === 0 ? message.body : message.body.slice();
  const slices: ColumnSlice[] = [];
  for (const column of columns) {
    const data = columnData(column, shape, body);
    if (data === null) return null;
    checkColumn(data, column.plan, rows, origin);
    slices.push(chainSlice([data], column.plan));
  }
  return { numRows: rows, slices };
}

/** The column's data, made as apache-arrow's `VectorLoader` makes it; `null` if the batch does not list it. */
function columnData(column: DirectColumn, shape: BatchShape, body: Uint8Array): Data | null {
  const { type, node, buffer, buffers } = column;
  const length = shape.nodeLengths[node];
  const nullCount = shape.nodeNullCounts[node];
  if (length === undefined || nullCount === undefined || buffer + buffers > shape.regions.length) return null;
  if (buffers === 0) return makeData({ type, length } as never);
  const view = (i: number) => {
    const { offset, length: bytes } = shape.regions[buffer + i] as { offset: number; length: number };
    return body.subarray(offset, offset + bytes);
  };
  // As apache-arrow: a bitmap only where the node declares nulls.
  const nullBitmap = nullCount > 0 ? view(0) : new Uint8Array(0);
  const props = { type, length, nullCount, nullBitmap };
  if (buffers === 3) return makeData({ ...props, valueOffsets: view(1), data: view(2) } as never);
  return makeData({ ...props, data: view(1) } as never);
}
