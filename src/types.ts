import type { Encoding, WordType } from './core/columns/encoding.js';
import type { SkippedColumn } from './core/columns/type-plan.js';

export type { DictionaryValue } from './core/columns/encoders/dictionary-encoder.js';
export type { Encoding, EncodingRequest } from './core/columns/encoding.js';
export type { SkippedColumn } from './core/columns/type-plan.js';
export type { WgslBinding } from './core/columns/wgsl/column-wgsl.js';
export type { TableWgsl, WgslColumn, WgslOptions } from './core/columns/wgsl/table-wgsl.js';

/** The typed array of a column's GPU words: `Float32Array`, `Int32Array` or `Uint32Array`. */
export type GpuType = WordType;

/** How column bytes reach GPU buffers: a ring of two mapped staging buffers, or `queue.writeBuffer`. */
export type UploadStrategy = 'staging' | 'writeBuffer';

/** A snapshot of a load in progress, sent at most every ~50 ms and once at the end. */
export interface LoadProgress {
  bytesFetched: number;
  /** From `Content-Length`; `null` when the server did not say. */
  bytesTotal: number | null;
  batches: number;
  rows: number;
  bytesUploaded: number;
  queueDepth: number;
  /** Staging buffers (with `staging`) or `writeBuffer` submissions (with `writeBuffer`) in flight now: 0–2. */
  uploadsInFlight: number;
  elapsedMs: number;
}

/** Milliseconds each stage of a load spent busy; stages overlap, so these may add up to more than `msTotal`. */
export interface StageTimes {
  /** Waiting for bytes from the source. */
  fetchWaitMs: number;
  /** apache-arrow decoding messages into batches (network wait excluded). */
  decodeMs: number;
  /** Writing column values (widened, split, encoded) into staging memory or `writeBuffer`. */
  encodeMs: number;
  /** Of `encodeMs`, dictionary-encoding string and binary columns and remapping dictionary codes. */
  dictionaryMs: number;
  /** Waiting for a free staging buffer or for submitted GPU work. */
  gpuWaitMs: number;
}

/** Measurements of one finished load. */
export interface LoadStats {
  upload: UploadStrategy;
  batches: number;
  bytesFetched: number;
  bytesUploaded: number;
  maxQueueDepth: number;
  /**
   * Most staging buffers in flight at once on the device while this load ran (the ring is shared by every
   * load, so concurrent loads count too); with `writeBuffer`, most submissions of this load in flight.
   */
  maxUploadsInFlight: number;
  /** From the start of `load` until the first batch's bytes had been copied on the GPU. */
  msToFirstBatch: number;
  msTotal: number;
  stages: StageTimes;
  /** Buffers allocated to join IPC messages that straddle network chunks; flat once warm, whatever the batch count. */
  messageBuffers: number;
}

/** One column as it lies on the GPU. */
export interface ColumnInfo {
  /** The field's name; `parent.child` for the children of a struct. */
  name: string;
  /** The Arrow type as apache-arrow prints it, e.g. `Float64`. */
  arrowType: string;
  /** How the values lie in the column's buffer (see the README's encoding table). */
  encoding: Encoding;
  /** 32-bit words a row takes (`bool`: 1/32, 32 rows a word; `null`: 0). */
  components: number;
  /** The typed array `readColumn` returns. */
  gpuType: GpuType;
  /** Bytes of values on the GPU, all chunks together. */
  byteLength: number;
  /**
   * The buffers holding the values, in row order: each a whole number of rows within the device's
   * binding and buffer limits (and `chunkBytes`); validity buffers cover the same rows. A buffer is
   * never replaced: a table from `open` adds chunks, and rows to its last one, as batches land.
   */
  chunks: ColumnChunkInfo[];
  nullCount: number;
  /** `f32-relative`: the value subtracted from every row, exactly, as a decimal string. */
  offset?: string;
  /** `decimal`: the scale; the words hold the unscaled value. */
  scale?: number;
  /** `dictionary`: the number of distinct values in the table's dictionary. */
  dictionarySize?: number;
}

/** A batch whose rows are on the GPU (`open`'s `onBatch`): its index in the source and the table's rows through it. */
export interface BatchLanded {
  batch: number;
  rows: number;
}

/** Rows `[rowOffset, rowOffset + rows)` of a column, in one GPU buffer of `byteLength` bytes. */
export interface ColumnChunkInfo {
  rowOffset: number;
  rows: number;
  byteLength: number;
}

/** One column of an inspected schema, as `load` would lay it on the GPU with the same options. */
export interface SchemaColumn {
  /** The field's name; `parent.child` for the children of a struct. */
  name: string;
  /** The Arrow type as apache-arrow prints it, e.g. `Float64`. */
  arrowType: string;
  /** Whether the field, or a struct above it, may hold nulls. */
  nullable: boolean;
  /** How the values would lie in the column's buffer (see the README's encoding table). */
  encoding: Encoding;
  /** 32-bit words a row would take (`bool`: 1/32, 32 rows a word; `null`: 0). */
  components: number;
  /** The typed array `readColumn` would return. */
  gpuType: GpuType;
  /** `decimal`: the scale; the words hold the unscaled value. */
  scale?: number;
}

/** A source's schema, read without its batches, and the GPU encoding each column would get. */
export interface TableSchema {
  /** The absolute URL that was read. */
  url: string;
  /** The IPC container format of the source. */
  format: 'stream' | 'file';
  /** The columns `load` would upload with the same options, in order, structs flattened. */
  columns: SchemaColumn[];
  /** The selected columns without a GPU encoding, and why. */
  skipped: SkippedColumn[];
  /** The schema's custom metadata, key to value. */
  metadata: Record<string, string>;
  /** From `Content-Length` (or the file size); `null` when unknown. */
  bytesTotal: number | null;
}

/** The GPU adapter the worker's device runs on. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** GPU buffers currently alive in the worker, and the use of the staging ring its loads share. */
export interface MemoryInfo {
  liveBuffers: number;
  liveBytes: number;
  /** Staging buffers held by a load or waiting for the GPU now, over every load of the device. */
  stagingInFlight: number;
  /** Most staging buffers ever in flight at once on this device, over every load (at most 2). */
  maxStagingInFlight: number;
}

/**
 * What `table.describe(name)` returns. Integer columns (`i32`, `u32`, `i64`, `u64`) are summed exactly and
 * their `sum` is a `bigint`; `i64`/`u64` columns also give `min`/`max` as `bigint`s. Floats are summed
 * on the GPU in f32 (see the README for the error bound); `bool` sums to the count of `true`;
 * `dictionary` columns have no sum (`null`) and give `min`/`max` of the codes.
 */
export interface ColumnSummary {
  /** Rows considered: the table's, or those its filter keeps. */
  rows: number;
  /** Values that are neither null nor NaN (±Infinity included): what `min`, `max`, `sum`, `mean` are of. */
  count: number;
  /** Null rows among `rows`. */
  nullCount: number;
  /** NaN rows among `rows` (float columns); excluded from `min`, `max` and `sum`. */
  nanCount: number;
  /** Smallest value; `null` when `count` is 0. */
  min: number | bigint | null;
  /** Largest value; `null` when `count` is 0. */
  max: number | bigint | null;
  /** Sum of the values (0 when `count` is 0); `null` for dictionary columns. */
  sum: number | bigint | null;
  /** `sum / count`; `null` when `count` is 0 or the column has no sum. */
  mean: number | null;
}
