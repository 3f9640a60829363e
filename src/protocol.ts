import * as Comlink from 'comlink';
import { ArrowGpuError, deserializeError, type SerializedError, serializeError } from './core/errors.js';
import type { DeviceChannel, RemoteDeviceInfo } from './core/gpu/remote/device-channel.js';
import type { RemoteColumn, RemoteTableSpec } from './core/service/remote-table.js';
import type { RequestSpec, SourceSpec } from './core/source/source-spec.js';
import type {
  AdapterSummary,
  BatchLanded,
  ColumnInfo,
  ColumnSummary,
  CrossfilterOptions,
  CrossfilterResult,
  DictionaryValue,
  EncodingRequest,
  GpuType,
  Histogram,
  HistogramOptions,
  LoadProgress,
  LoadStats,
  MemoryInfo,
  Predicate,
  ReadRowsOptions,
  RenderSettings,
  RenderState,
  SkippedColumn,
  TableSchema,
  TableWgsl,
  UploadStrategy,
  WgslOptions,
} from './types.js';

/** Options the main thread passes when the worker starts. */
export interface WorkerInit {
  upload: UploadStrategy;
  /** Largest column buffer, in bytes (a multiple of 4); the device's `maxBufferSize` when absent. */
  maxBufferBytes?: number;
  /** Largest chunk of one column, in bytes (a multiple of 4); the device's limits when absent. */
  chunkBytes?: number;
  /** Decode workers a load uses by default (0 or 1: decoded on the loader worker); absent: the worker's default. */
  decodeWorkers?: number;
  /** Whether URLs are read on a worker of their own; absent: the worker's default. */
  readWorker?: boolean;
  /** The caller's device, when loads go to it (through the channel `init` is given) rather than the worker's own. */
  device?: RemoteDeviceInfo;
}

/** One `load` call as it crosses to the worker (an `AbortSignal` cannot: cancellation is `cancel(loadId)`). */
export interface WorkerLoadRequest {
  loadId: number;
  /** Absolute URL (resolved against the page, not the worker); with `source`, that source's name in errors. */
  url: string;
  /** How `url` is requested; a GET without it. */
  request?: RequestSpec;
  /** A source other than a URL (a Blob, bytes, a stream), transferred with the request. */
  source?: SourceSpec;
  columns?: string[];
  encodings?: EncodingRequest;
  unsupported?: 'error' | 'skip';
  maxDictionary?: number;
  /** Rows the source holds, when the caller knows: buffers are then allocated once. */
  rows?: number;
  upload?: UploadStrategy;
  /** Fail with `NETWORK` when no byte arrives for this long. */
  timeoutMs?: number;
  /** Decode workers for this load, overriding the loader's. */
  decodeWorkers?: number;
}

/** One `inspect` call as it crosses to the worker; cancelled with `cancel(loadId)`, as a load is. */
export interface WorkerInspectRequest {
  loadId: number;
  /** Absolute URL (resolved against the page, not the worker); with `source`, that source's name in errors. */
  url: string;
  /** How `url` is requested; a GET without it. */
  request?: RequestSpec;
  /** A source other than a URL (a Blob, bytes, a stream), transferred with the request. */
  source?: SourceSpec;
  columns?: string[];
  encodings?: EncodingRequest;
  /** Default `'skip'`: columns without a GPU encoding are listed, not thrown. */
  unsupported?: 'error' | 'skip';
  /** Fail with `NETWORK` when no byte arrives for this long. */
  timeoutMs?: number;
}

/** A loaded table as plain data; its GPU buffers stay in the worker under `tableId`. */
export interface TableSnapshot {
  tableId: number;
  numRows: number;
  columns: ColumnInfo[];
  skipped: SkippedColumn[];
  stats: LoadStats;
  /** Of a table from `open`: the updates (see `TableUpdateMessage`) this snapshot already includes. */
  updates?: number;
}

/** Sent to the page each time rows of a table from `open` land on the GPU; the page applies them in `seq` order. */
export interface TableUpdateMessage {
  /** 1 for the first update of a table, then 2, 3, … */
  seq: number;
  numRows: number;
  /** The batches whose rows this update made visible, in order. */
  batches: BatchLanded[];
  columns: ColumnInfo[];
  /** On the caller's device: the columns with their buffers by id. */
  remote?: RemoteColumn[];
}

/** One `render` call as it crosses to the worker: the table by id, and the view's settings. */
export type WorkerRenderRequest = WorkerViewSettings & { tableId: number };

/** A view's settings as they cross to the worker: a filter goes by its id (`null`: no filter). */
export type WorkerViewSettings = RenderSettings & { filterId?: number | null };

/** A render view's state after a call, and the id later calls name it by. */
export type RenderViewInfo = RenderState & { viewId: number };

/** Options of a query as they cross to the worker: a filter goes by its id (of the same table). */
export interface WorkerQueryOptions {
  filterId?: number;
}

/** A filter made in the worker: its mask stays there under `filterId`. */
export interface FilterSnapshot {
  tableId: number;
  filterId: number;
  /** Rows the filter keeps. */
  count: number;
  /** Rows of the table. */
  rows: number;
}

/** Column bytes read back from the GPU, transferred (not copied) to the main thread. */
export interface ColumnBytes {
  gpuType: GpuType;
  buffer: ArrayBuffer;
}

/** What a table's methods call: the worker, or (for a table on the caller's device) the caller's thread. */
export type TableApi = Pick<
  LoaderWorkerApi,
  | 'readColumn'
  | 'readValidity'
  | 'dictionary'
  | 'wgsl'
  | 'describe'
  | 'filter'
  | 'destroyFilter'
  | 'histogram'
  | 'crossfilter'
  | 'readRows'
  | 'destroyTable'
>;

/** The calls of `TableApi` as a table makes them: each answers later. */
export type TableCalls = {
  [K in keyof TableApi]: (...args: Parameters<TableApi[K]>) => Promise<Awaited<ReturnType<TableApi[K]>>>;
};

/** The worker's API, called through a Comlink proxy. */
export interface LoaderWorkerApi {
  /** Starts the worker's device, or with `options.device`, takes `channel` to the caller's device instead. */
  init(options: WorkerInit, channel?: DeviceChannel): Promise<AdapterSummary>;
  /** The caller's device was lost: loads on it fail with `DEVICE_LOST`, now and from now on. */
  deviceLost(message: string): void;
  /** A table loaded onto the caller's device, described for the caller's thread (its buffers by id). */
  remoteTable(tableId: number): Promise<RemoteTableSpec>;
  adapterInfo(): Promise<AdapterSummary>;
  load(request: WorkerLoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<TableSnapshot>;
  /**
   * Starts a load and answers as soon as the schema is known, with a table whose rows grow as batches
   * land (each landing sent to `onUpdate`); `loaded(loadId)` answers when the load ends.
   */
  open(
    request: WorkerLoadRequest,
    onProgress?: (progress: LoadProgress) => void,
    onUpdate?: (update: TableUpdateMessage) => void,
  ): Promise<TableSnapshot>;
  /** The table of the `open` with `loadId` once its load has ended; rejects with the load's error. Answers once. */
  loaded(loadId: number): Promise<TableSnapshot>;
  /** The schema of a source and the encoding each column would get; reads no batch, makes no GPU buffer. */
  inspect(request: WorkerInspectRequest): Promise<TableSchema>;
  cancel(loadId: number): void;
  readColumn(tableId: number, name: string): Promise<ColumnBytes>;
  readValidity(tableId: number, name: string): Promise<ArrayBuffer | null>;
  dictionary(tableId: number, name: string): Promise<DictionaryValue[]>;
  /** WGSL declarations and accessors for columns of a table (all when `names` is absent); no GPU call. */
  wgsl(tableId: number, names?: string[], options?: WgslOptions): Promise<TableWgsl>;
  /** Summary statistics of a column over the rows of filter `options.filterId` (all rows without), on the GPU. */
  describe(tableId: number, name: string, options?: WorkerQueryOptions): Promise<ColumnSummary>;
  /** Makes the row mask of `predicate` on the GPU and counts its rows. */
  filter(tableId: number, predicate: Predicate): Promise<FilterSnapshot>;
  /** Frees a filter's mask; a second call is a no-op. */
  destroyFilter(tableId: number, filterId: number): Promise<void>;
  /** A column's histogram, computed on the GPU; the options are checked in the worker. */
  histogram(
    tableId: number,
    name: string,
    options?: HistogramOptions,
    query?: WorkerQueryOptions,
  ): Promise<Histogram>;
  /** Linked histograms of several columns with brushes, computed on the GPU. */
  crossfilter(tableId: number, options: CrossfilterOptions): Promise<CrossfilterResult>;
  /** Destroys a table's buffers and its render views. */
  /** Rows of a table (those of filter `query.filterId`) rebuilt from the GPU, as Arrow IPC bytes (transferred). */
  readRows(tableId: number, options: ReadRowsOptions, query?: WorkerQueryOptions): Promise<ArrayBuffer>;
  destroyTable(tableId: number): Promise<void>;
  /** Draws a table's rows on `canvas` (transferred to the worker) and keeps the view for later calls. */
  render(canvas: OffscreenCanvas, request: WorkerRenderRequest): Promise<RenderViewInfo>;
  /** Applies settings to a view and draws it again. */
  updateView(viewId: number, settings: WorkerViewSettings): Promise<RenderViewInfo>;
  /** Sizes a view's canvas (CSS pixels × pixel ratio) and draws it again. */
  resizeView(viewId: number, width: number, height: number, pixelRatio?: number): Promise<RenderViewInfo>;
  /** Frees a view's GPU objects and lets go of its canvas. */
  destroyView(viewId: number): Promise<void>;
  memory(): Promise<MemoryInfo>;
  /** Releases the staging buffers now (they come back with the next load). */
  trim(): Promise<void>;
  close(): Promise<void>;
  /** Answers at once: the page's liveness check, since a worker can vanish without an `error` event. */
  ping(): void;
}

interface ThrownValue {
  value: unknown;
}

type WireThrown = { arrowGpu: SerializedError } | { other: unknown };

let registered = false;

/**
 * Makes `ArrowGpuError`s cross the worker boundary with their class, `code` and `details` intact.
 * Comlink's own handler keeps only name, message and stack. Both sides call this once.
 */
export function registerErrorTransfer(): void {
  if (registered) return;
  registered = true;
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<ThrownValue, unknown>;
  const handler: Comlink.TransferHandler<ThrownValue, WireThrown> = {
    canHandle: (value): value is ThrownValue => base.canHandle(value),
    serialize(thrown) {
      if (thrown.value instanceof ArrowGpuError) return [{ arrowGpu: serializeError(thrown.value) }, []];
      const [other, transferables] = base.serialize(thrown);
      return [{ other }, transferables];
    },
    deserialize(wire) {
      if ('arrowGpu' in wire) throw deserializeError(wire.arrowGpu);
      return base.deserialize(wire.other);
    },
  };
  Comlink.transferHandlers.set('throw', handler as Comlink.TransferHandler<unknown, unknown>);
}
