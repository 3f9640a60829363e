import type { Encoding, WordType } from './core/columns/encoding.js';
import type { SkippedColumn } from './core/columns/type-plan.js';

export type { DictionaryValue } from './core/columns/encoders/dictionary-encoder.js';
export type { Encoding, EncodingRequest } from './core/columns/encoding.js';
export type { SkippedColumn } from './core/columns/type-plan.js';
export type { WgslBinding } from './core/columns/wgsl/column-wgsl.js';
export type { TableWgsl, WgslColumn, WgslOptions } from './core/columns/wgsl/table-wgsl.js';
export type {
  FilterMode,
  Range,
  RenderDomain,
  RenderSettings,
  RenderShader,
  RenderState,
  ShaderTopology,
} from './core/gpu/render/render-settings.js';

/**
 * What `load` and `inspect` read Arrow IPC from: a URL (fetched in the worker, with the request options
 * of the load), a `Response` or a `ReadableStream` of bytes (transferred to the worker and read once), a
 * `Blob` or `File` (read in the worker, its end by slicing), or bytes in memory (transferred, or copied
 * with `keepBytes`).
 */
export type LoadSource =
  | string
  | URL
  | Response
  | ReadableStream<Uint8Array>
  | Blob
  | ArrayBuffer
  | Uint8Array;

/** A request body `load` can send with a URL source (copied to the worker; a Blob by reference). */
export type RequestBody = string | ArrayBuffer | ArrayBufferView | Blob | URLSearchParams;

/** How a URL source is requested: passed to the worker's `fetch` (and its footer `Range` reads, for a GET). */
export interface RequestOptions {
  /** The request method; default `'GET'`. A body needs another (a query endpoint answers a `'POST'`). */
  method?: string;
  /** Request headers (an `Authorization` for a data API): a `Headers`, an object or name–value pairs. */
  headers?: HeadersInit;
  /** Whether cookies and HTTP auth go with the request, as for `fetch`; default `'same-origin'`. */
  credentials?: RequestCredentials;
  /** The request body (a query); a `URLSearchParams` is sent as a form, as `fetch` sends it. */
  body?: RequestBody;
}

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
  /**
   * Decoding messages into batches: apache-arrow's reader, or the loader's own for flat columns (network
   * wait excluded).
   */
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
  /**
   * Buffers the load's byte pool allocated: for record batch bodies that straddle network chunks, and for
   * bodies copied to decode workers; flat once warm, whatever the batch count.
   */
  messageBuffers: number;
  /**
   * Bytes of record batch bodies that decode workers read from the source themselves (a file in Node):
   * the loader's thread skipped them. Counted in `bytesFetched` too.
   */
  bytesReadByWorkers: number;
  /**
   * Bytes of columns already in GPU form that the loader read from the source straight into staging
   * memory, on threads of their own (a file in Node whose bodies decode workers read): no thread copied
   * them into the staging buffers. Counted in `bytesUploaded` too.
   */
  bytesReadIntoStaging: number;
  /**
   * Decode workers the load's record batches went to; 0: decoded on the loader's thread (none asked for,
   * or, by default, an `open`, or a first record batch under 2 MiB: small batches cost more to send than
   * to decode).
   */
  decodeWorkers: number;
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
  /**
   * Milliseconds, measured in the worker, from the loader reading the last byte of the batch's message
   * to its rows on the GPU (the copy that wrote them done); the time to reach the page is not included.
   */
  msFromLastByte: number;
  /**
   * Of `msFromLastByte`, the milliseconds from the submit that the batch's rows were published after to
   * the worker hearing that the GPU did it (on your own device: from the worker posting the bytes to your
   * thread, which writes them); the rest is the worker's framing, decoding and encoding. Batches
   * published together share that submit (an earlier one's copies may have gone in an earlier one).
   */
  msOnGpu: number;
}

/** Rows `[rowOffset, rowOffset + rows)` of a column, in one GPU buffer of `byteLength` bytes. */
export interface ColumnChunkInfo {
  rowOffset: number;
  rows: number;
  byteLength: number;
}

/** A chunk of a column on the caller's device (`createLoader({ device })`): its buffer, to bind, and its rows. */
export interface ColumnBuffer extends ColumnChunkInfo {
  /** Usage `STORAGE | VERTEX | COPY_SRC | COPY_DST`; the table owns it (`table.destroy()` destroys it). */
  buffer: GPUBuffer;
}

/** The buffers of a column on the caller's device, in row order; validity chunks cover the same rows. */
export interface ColumnBuffers {
  values: readonly ColumnBuffer[];
  /** One bit a row (bit `i & 31` of word `i >> 5` of its chunk, set = valid); `null` when no row is null. */
  validity: readonly ColumnBuffer[] | null;
}

/** A column of a table on the caller's device: its description and its buffers. */
export interface DeviceColumnInfo extends ColumnInfo {
  buffers: ColumnBuffers;
}

/**
 * What `table.readRows` returns: `limit` rows from `offset` (default 0), of the named columns (default
 * all, structs flattened into `parent.child`; a struct's name selects its children), in row order.
 */
export interface ReadRowsOptions {
  /** Columns by name, in this order; default every column of the table. */
  columns?: readonly string[];
  /** Rows to skip first; default 0. */
  offset?: number;
  /** Most rows to return: a whole number from 1 to 1,000,000 (and at most 256 MiB of the columns' GPU words). */
  limit: number;
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
  /** The absolute URL that was read, or the name of another source (`blob:<name>`, `stream`, `response <url>`, `bytes`). */
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

/** A value a predicate compares with: numbers and bigints exactly, booleans as 0/1 (`bool` columns). */
export type PredicateValue = number | bigint | boolean | string | Uint8Array;

/**
 * Which rows `table.filter` keeps, as plain data. `range` is half-open `[lo, hi)` in the column's own
 * values; `in` lists values (a dictionary column's values, mapped to its codes); a null row is outside
 * every `range` and `in`, and `not` keeps what its operand does not (so null rows too). NaN is outside
 * every `range` and `in`. An empty `and` keeps every row, an empty `or` none.
 */
export type Predicate =
  | { column: string; range: readonly [number | bigint, number | bigint] }
  | { column: string; in: readonly PredicateValue[] }
  | { column: string; isNull: boolean }
  | { and: readonly Predicate[] }
  | { or: readonly Predicate[] }
  | { not: Predicate };

/**
 * Bins of `table.histogram(name, options)` and of each `crossfilter` dimension. For numeric columns
 * `bins` is required; `min` and `max` default to the column's finite extent (the maximum then counted in
 * the last bin). Dictionary columns take none of them: one bin per dictionary value.
 */
export interface HistogramOptions {
  /** Equal-width bins, an integer from 1 to 1,048,576 (65,532 in a crossfilter). */
  bins?: number;
  /** Left edge of the first bin, finite; the smallest finite value when left out. */
  min?: number;
  /** Right edge of the last bin, finite, above `min`; the largest finite value when left out. */
  max?: number;
}

/**
 * Counts of a column's rows in bins: bin i holds the values v with `edges[i] ≤ v < edges[i + 1]`
 * (the last bin also `v = edges[bins]` when `max` was left out). Every row counted is in exactly one of
 * `counts`, `below`, `above`, `nans` and `nulls`.
 */
export interface Histogram {
  /** Rows counted: the table's (or, in a crossfilter, those that pass the other dimensions' brushes). */
  rows: number;
  /** `bins + 1` edges, computed in f64: `min + i·(max − min)/bins`, the last `max`. Codes 0…n for dictionaries. */
  edges: Float64Array;
  /** Rows in each bin. */
  counts: Uint32Array;
  /** Null rows. */
  nulls: number;
  /** NaN rows. */
  nans: number;
  /** Rows below `edges[0]`, −Infinity included. */
  below: number;
  /** Rows at or above `edges[bins]` (above it when the last bin is closed), +Infinity included. */
  above: number;
}

/** A brush on a crossfilter dimension: the rows whose value v has `lo ≤ v < hi`; `null` for none. */
export type CrossfilterBrush = readonly [lo: number, hi: number] | null;

/** What `table.crossfilter(options)` computes: histograms of several columns, linked by brushes. */
export interface CrossfilterOptions {
  /** The dimensions, by column name (1 to 16): each one's bins, as `histogram` takes them. */
  dims: Record<string, HistogramOptions>;
  /** Brushes on some of the dimensions, by name; dimensions left out are not brushed. */
  brush?: Record<string, CrossfilterBrush>;
}

/** The result of `table.crossfilter(options)`. */
export interface CrossfilterResult {
  /** Rows of the table considered. */
  rows: number;
  /** Rows that pass every brush. */
  selected: number;
  /** Each dimension's histogram over the rows that pass the brushes of all the other dimensions. */
  dims: Record<string, Histogram>;
}
