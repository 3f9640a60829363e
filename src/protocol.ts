import * as Comlink from 'comlink';
import { ArrowGpuError, deserializeError, type SerializedError, serializeError } from './core/errors.js';
import type {
  AdapterSummary,
  ColumnInfo,
  ColumnSummary,
  DictionaryValue,
  EncodingRequest,
  GpuType,
  LoadProgress,
  LoadStats,
  MemoryInfo,
  ReadRowsOptions,
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
}

/** One `load` call as it crosses to the worker (an `AbortSignal` cannot: cancellation is `cancel(loadId)`). */
export interface WorkerLoadRequest {
  loadId: number;
  /** Absolute URL (resolved against the page, not the worker). */
  url: string;
  columns?: string[];
  encodings?: EncodingRequest;
  unsupported?: 'error' | 'skip';
  maxDictionary?: number;
  /** Rows the source holds, when the caller knows: buffers are then allocated once. */
  rows?: number;
  upload?: UploadStrategy;
  /** Fail with `NETWORK` when no byte arrives for this long. */
  timeoutMs?: number;
}

/** One `inspect` call as it crosses to the worker; cancelled with `cancel(loadId)`, as a load is. */
export interface WorkerInspectRequest {
  loadId: number;
  /** Absolute URL (resolved against the page, not the worker). */
  url: string;
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
}

/** Column bytes read back from the GPU, transferred (not copied) to the main thread. */
export interface ColumnBytes {
  gpuType: GpuType;
  buffer: ArrayBuffer;
}

/** The worker's API, called through a Comlink proxy. */
export interface LoaderWorkerApi {
  init(options: WorkerInit): Promise<AdapterSummary>;
  adapterInfo(): Promise<AdapterSummary>;
  load(request: WorkerLoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<TableSnapshot>;
  /** The schema of a source and the encoding each column would get; reads no batch, makes no GPU buffer. */
  inspect(request: WorkerInspectRequest): Promise<TableSchema>;
  cancel(loadId: number): void;
  readColumn(tableId: number, name: string): Promise<ColumnBytes>;
  readValidity(tableId: number, name: string): Promise<ArrayBuffer | null>;
  dictionary(tableId: number, name: string): Promise<DictionaryValue[]>;
  /** WGSL declarations and accessors for columns of a table (all when `names` is absent); no GPU call. */
  wgsl(tableId: number, names?: string[], options?: WgslOptions): Promise<TableWgsl>;
  /** Summary statistics of a column, computed on the GPU. */
  describe(tableId: number, name: string): Promise<ColumnSummary>;
  /** Rows of a table rebuilt from the GPU, as Arrow IPC stream bytes (transferred). */
  readRows(tableId: number, options: ReadRowsOptions): Promise<ArrayBuffer>;
  destroyTable(tableId: number): Promise<void>;
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
