import type { FlatbufferView } from '../flatbuffer-view.js';
import { HeaderFault } from './checks.js';
import type { FieldsShape } from './field.js';
import { RecordBatch } from './slots.js';

/** What a record or dictionary batch lists. */
export interface BatchShape extends FieldsShape {
  /** Length of each field node, in order. */
  nodeLengths: readonly number[];
  /** Dictionary batches: the dictionary id. */
  dictionaryId: number | null;
}

/** A `RecordBatch` table's rows and what it lists. */
export interface RecordBatchInfo {
  rows: number;
  batch: BatchShape;
}

// `FieldNode` and `Buffer` are structs of two longs, stored inline in their vectors.
const FIELD_NODE_BYTES = 16;
const BUFFER_BYTES = 16;

/**
 * Checks a `RecordBatch` table (also the data of a dictionary batch): its row count, each field node,
 * each body buffer against the body, and the variadic buffer counts. `compression` is left to the codecs.
 */
export function checkRecordBatch(
  fb: FlatbufferView,
  table: number,
  bodyLength: number,
  dictionaryId: number | null,
): RecordBatchInfo {
  const lengthField = fb.field(table, RecordBatch.length);
  const rows = lengthField === null ? 0 : fb.i64(lengthField);
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new HeaderFault(`record batch declares an invalid row count (${rows})`);
  }
  const nodeLengths = checkFieldNodes(fb, fb.field(table, RecordBatch.nodes));
  const listed = checkBuffers(fb, fb.field(table, RecordBatch.buffers), bodyLength);
  const buffers = nonVariadicBuffers(fb, fb.field(table, RecordBatch.variadicBufferCounts), listed);
  return { rows, batch: { nodes: nodeLengths.length, buffers, nodeLengths, dictionaryId } };
}

/** Checks each field node's length and null count; returns the lengths. */
function checkFieldNodes(fb: FlatbufferView, position: number | null): number[] {
  const nodeLengths: number[] = [];
  if (position === null) return nodeLengths;
  const nodes = fb.vector(position, FIELD_NODE_BYTES);
  for (let i = 0; i < nodes.length; i++) {
    const length = fb.i64(nodes.start + i * FIELD_NODE_BYTES);
    const nullCount = fb.i64(nodes.start + i * FIELD_NODE_BYTES + 8);
    if (!Number.isSafeInteger(length) || length < 0 || !(nullCount >= 0 && nullCount <= length)) {
      throw new HeaderFault(`field node ${i} declares length ${length} and null count ${nullCount}`);
    }
    nodeLengths.push(length);
  }
  return nodeLengths;
}

/** Checks that every body buffer lies inside the body; returns how many are listed. */
function checkBuffers(fb: FlatbufferView, position: number | null, bodyLength: number): number {
  if (position === null) return 0;
  const vector = fb.vector(position, BUFFER_BYTES);
  for (let i = 0; i < vector.length; i++) {
    const offset = fb.i64(vector.start + i * BUFFER_BYTES);
    const length = fb.i64(vector.start + i * BUFFER_BYTES + 8);
    if (!(offset >= 0 && length >= 0 && offset + length <= bodyLength)) {
      throw new HeaderFault(
        `body buffer ${i} spans bytes [${offset}, ${offset + length}) but the body has ${bodyLength} bytes`,
      );
    }
  }
  return vector.length;
}

/**
 * Checks the variadic buffer count of each view column against the buffers not yet claimed; returns
 * the buffers left, which are what the schema's fields must account for.
 */
function nonVariadicBuffers(fb: FlatbufferView, position: number | null, listed: number): number {
  if (position === null) return listed;
  const vector = fb.vector(position, 8);
  let buffers = listed;
  for (let i = 0; i < vector.length; i++) {
    const count = fb.i64(vector.start + i * 8);
    if (!(count >= 0 && count <= buffers)) {
      throw new HeaderFault(`view column ${i} declares ${count} variadic buffers of the ${buffers} listed`);
    }
    buffers -= count;
  }
  return buffers;
}
