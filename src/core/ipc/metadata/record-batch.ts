import type { FlatbufferView } from '../flatbuffer-view.js';
import { HeaderFault } from './checks.js';
import type { FieldsShape } from './field.js';
import { BodyCompression, RecordBatch } from './slots.js';

/** Where a body buffer lies in its message's body. */
export interface BufferRegion {
  offset: number;
  length: number;
}

/** What a record or dictionary batch lists. */
export interface BatchShape extends FieldsShape {
  /** Length of each field node, in order. */
  nodeLengths: readonly number[];
  /** Null count of each field node, in order (each at most its length). */
  nodeNullCounts: readonly number[];
  /** Dictionary batches: the dictionary id. */
  dictionaryId: number | null;
  /** The body's codec (`CompressionType`: 0 LZ4 frame, 1 ZSTD), or `null` for an uncompressed body. */
  compression: number | null;
  /** Every body buffer, variadic ones included, in order. */
  regions: readonly BufferRegion[];
  /** How many variadic buffers each view-typed node has, in node order. */
  variadicCounts: readonly number[];
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
 * each body buffer against the body, and the variadic buffer counts; reads its codec, whose buffers are
 * bounded by the framer before they are decompressed.
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
  const { nodeLengths, nodeNullCounts } = checkFieldNodes(fb, fb.field(table, RecordBatch.nodes));
  const regions = checkBuffers(fb, fb.field(table, RecordBatch.buffers), bodyLength);
  const countsField = fb.field(table, RecordBatch.variadicBufferCounts);
  const variadicCounts = checkVariadicCounts(fb, countsField, regions.length);
  // What the schema's fields must account for: the buffers that are not variadic.
  const buffers = variadicCounts.reduce((left, count) => left - count, regions.length);
  const compression = readCodec(fb, fb.field(table, RecordBatch.compression));
  const nodes = nodeLengths.length;
  const batch = { nodes, buffers, nodeLengths, nodeNullCounts, dictionaryId, compression, regions };
  return { rows, batch: { ...batch, variadicCounts } };
}

/** Checks each field node's length and null count; returns both. */
function checkFieldNodes(
  fb: FlatbufferView,
  position: number | null,
): { nodeLengths: number[]; nodeNullCounts: number[] } {
  const nodeLengths: number[] = [];
  const nodeNullCounts: number[] = [];
  if (position === null) return { nodeLengths, nodeNullCounts };
  const nodes = fb.vector(position, FIELD_NODE_BYTES);
  for (let i = 0; i < nodes.length; i++) {
    const length = fb.i64(nodes.start + i * FIELD_NODE_BYTES);
    const nullCount = fb.i64(nodes.start + i * FIELD_NODE_BYTES + 8);
    if (!Number.isSafeInteger(length) || length < 0 || !(nullCount >= 0 && nullCount <= length)) {
      throw new HeaderFault(`field node ${i} declares length ${length} and null count ${nullCount}`);
    }
    nodeLengths.push(length);
    nodeNullCounts.push(nullCount);
  }
  return { nodeLengths, nodeNullCounts };
}

/** Checks that every body buffer lies inside the body; returns where each lies. */
function checkBuffers(fb: FlatbufferView, position: number | null, bodyLength: number): BufferRegion[] {
  const regions: BufferRegion[] = [];
  if (position === null) return regions;
  const vector = fb.vector(position, BUFFER_BYTES);
  for (let i = 0; i < vector.length; i++) {
    const offset = fb.i64(vector.start + i * BUFFER_BYTES);
    const length = fb.i64(vector.start + i * BUFFER_BYTES + 8);
    if (!(offset >= 0 && length >= 0 && offset + length <= bodyLength)) {
      throw new HeaderFault(
        `body buffer ${i} spans bytes [${offset}, ${offset + length}) but the body has ${bodyLength} bytes`,
      );
    }
    regions.push({ offset, length });
  }
  return regions;
}

/** Checks the variadic buffer count of each view column against the buffers not yet claimed. */
function checkVariadicCounts(fb: FlatbufferView, position: number | null, listed: number): number[] {
  const counts: number[] = [];
  if (position === null) return counts;
  const vector = fb.vector(position, 8);
  let buffers = listed;
  for (let i = 0; i < vector.length; i++) {
    const count = fb.i64(vector.start + i * 8);
    if (!(count >= 0 && count <= buffers)) {
      throw new HeaderFault(`view column ${i} declares ${count} variadic buffers of the ${buffers} listed`);
    }
    buffers -= count;
    counts.push(count);
  }
  return counts;
}

/** The codec of a `BodyCompression` table, or `null` when the body is not compressed. */
function readCodec(fb: FlatbufferView, position: number | null): number | null {
  if (position === null) return null;
  const codec = fb.field(fb.indirect(position), BodyCompression.codec);
  return codec === null ? 0 : fb.u8(codec); // the default codec is LZ4_FRAME
}
