import type {
  ColumnBytes,
  LoaderWorkerApi,
  TableSnapshot,
  WorkerInit,
  WorkerInspectRequest,
  WorkerLoadRequest,
} from '../../protocol.js';
import type {
  AdapterSummary,
  ColumnSummary,
  DictionaryValue,
  LoadProgress,
  MemoryInfo,
  ReadRowsOptions,
  TableSchema,
  TableWgsl,
  UploadStrategy,
  WgslOptions,
} from '../../types.js';
import { asArrowGpuError, loadAborted } from '../errors.js';
import type { GpuContext } from '../gpu/device-context.js';
import { inspectSchema } from '../pipeline/inspect.js';
import { runPipeline } from '../pipeline/load.js';
import type { ByteSource, OpenSource } from '../source/byte-source.js';
import { DeviceManager } from './device-manager.js';
import { destroyTable, lostDuring, TableStore } from './table-store.js';

interface RunningLoad {
  controller: AbortController;
  context: GpuContext | null;
}

/**
 * The worker's state: a device manager, the tables loaded on its device and the loads in flight. It
 * implements the worker protocol (all but `ping`, which the exposed API answers) yet needs only a `GPU`
 * and a way to open byte sources.
 */
export class LoaderService implements Omit<LoaderWorkerApi, 'ping'> {
  /** The device this service loads into. */
  readonly devices: DeviceManager;
  readonly #openSource: OpenSource;
  readonly #tables = new TableStore();
  readonly #loads = new Map<number, RunningLoad>();
  #upload: UploadStrategy = 'staging';
  #chunkBytes: number | undefined;

  constructor(gpu: GPU | undefined, openSource: OpenSource, options: { idleTrimMs?: number } = {}) {
    this.#openSource = openSource;
    this.devices = new DeviceManager(gpu, (lost) => this.#onLost(lost), options.idleTrimMs);
  }

  async init(options: WorkerInit): Promise<AdapterSummary> {
    this.#upload = options.upload;
    this.#chunkBytes = options.chunkBytes;
    this.devices.configure(options.maxBufferBytes);
    return (await this.devices.current()).summary;
  }

  async adapterInfo(): Promise<AdapterSummary> {
    return (await this.devices.current()).summary;
  }

  async load(
    request: WorkerLoadRequest,
    onProgress?: (progress: LoadProgress) => void,
  ): Promise<TableSnapshot> {
    const entry: RunningLoad = { controller: new AbortController(), context: null };
    this.#loads.set(request.loadId, entry);
    this.devices.loadStarted();
    try {
      return await this.#run(request, entry, onProgress);
    } catch (error) {
      if (entry.context && (await lostDuring(entry.context))) throw entry.context.lostError();
      throw asArrowGpuError(error, { url: request.url });
    } finally {
      this.#loads.delete(request.loadId);
      this.devices.loadEnded();
    }
  }

  async #run(
    request: WorkerLoadRequest,
    entry: RunningLoad,
    onProgress: ((progress: LoadProgress) => void) | undefined,
  ): Promise<TableSnapshot> {
    const startedAt = performance.now();
    const { signal } = entry.controller;
    const context = await this.devices.current();
    entry.context = context;
    if (signal.aborted) throw loadAborted(request.url);
    // The request is closed whenever the load ends: a failed load never keeps its connection open.
    const closeRequest = new AbortController();
    const source = await this.#open(request, signal, closeRequest);
    try {
      const table = await runPipeline({
        gpu: context,
        source: source.body,
        readTail: source.readTail,
        closeSource: () => closeRequest.abort(),
        url: request.url,
        bytesTotal: source.bytesTotal,
        columns: request.columns,
        encodings: request.encodings,
        unsupported: request.unsupported,
        maxDictionary: request.maxDictionary,
        rows: request.rows,
        chunkBytes: this.#chunkBytes,
        upload: request.upload ?? this.#upload,
        signal,
        onProgress: onProgress && fireAndForget(onProgress),
        startedAt,
      });
      if (context.lostReason !== null) {
        destroyTable(table, context);
        throw context.lostError();
      }
      return this.#tables.add(table, context);
    } finally {
      closeRequest.abort();
    }
  }

  /** Reads the schema of `request.url` and plans its columns; touches no GPU, and closes the request once read. */
  async inspect(request: WorkerInspectRequest): Promise<TableSchema> {
    // Cancelled through `cancel(loadId)` as a load is; it has no device, so a device loss leaves it be.
    const entry: RunningLoad = { controller: new AbortController(), context: null };
    this.#loads.set(request.loadId, entry);
    const closeRequest = new AbortController();
    try {
      const { signal } = entry.controller;
      const source = await this.#open(request, signal, closeRequest);
      return await inspectSchema({
        source: source.body,
        readTail: source.readTail,
        closeSource: () => closeRequest.abort(),
        url: request.url,
        bytesTotal: source.bytesTotal,
        columns: request.columns,
        encodings: request.encodings,
        unsupported: request.unsupported,
        signal,
      });
    } catch (error) {
      throw asArrowGpuError(error, { url: request.url });
    } finally {
      closeRequest.abort();
      this.#loads.delete(request.loadId);
    }
  }

  /** Opens the request's source; aborting `signal` (a cancel) or `closeRequest` (the end) closes it. */
  #open(
    request: { url: string; timeoutMs?: number },
    signal: AbortSignal,
    closeRequest: AbortController,
  ): Promise<ByteSource> {
    return this.#openSource(request.url, AbortSignal.any([signal, closeRequest.signal]), {
      timeoutMs: request.timeoutMs,
    });
  }

  cancel(loadId: number): void {
    this.#loads.get(loadId)?.controller.abort();
  }

  readColumn(tableId: number, name: string): Promise<ColumnBytes> {
    return this.#tables.readColumn(tableId, name);
  }

  readValidity(tableId: number, name: string): Promise<ArrayBuffer | null> {
    return this.#tables.readValidity(tableId, name);
  }

  async dictionary(tableId: number, name: string): Promise<DictionaryValue[]> {
    return this.#tables.dictionary(tableId, name);
  }

  async wgsl(tableId: number, names?: string[], options?: WgslOptions): Promise<TableWgsl> {
    return this.#tables.wgsl(tableId, names, options);
  }

  describe(tableId: number, name: string): Promise<ColumnSummary> {
    return this.#tables.describe(tableId, name);
  }

  readRows(tableId: number, options: ReadRowsOptions): Promise<ArrayBuffer> {
    return this.#tables.readRows(tableId, options);
  }

  async destroyTable(tableId: number): Promise<void> {
    this.#tables.destroy(tableId);
  }

  async memory(): Promise<MemoryInfo> {
    const context = await this.devices.opened();
    return {
      liveBuffers: context?.tracker.count ?? 0,
      liveBytes: context?.tracker.bytes ?? 0,
      stagingInFlight: context?.ring.inFlight ?? 0,
      maxStagingInFlight: context?.ring.maxInFlight ?? 0,
    };
  }

  trim(): Promise<void> {
    return this.devices.trim();
  }

  async close(): Promise<void> {
    for (const { controller } of this.#loads.values()) controller.abort();
    this.#tables.destroyAll();
    await this.devices.close();
  }

  #onLost(context: GpuContext): void {
    for (const load of this.#loads.values()) if (load.context === context) load.controller.abort();
    context.tracker.destroyAll();
  }
}

/** A progress callback that never slows the load down: a busy main thread answers when it can. */
function fireAndForget(onProgress: (progress: LoadProgress) => void): (progress: LoadProgress) => void {
  return (progress) => {
    void Promise.resolve(onProgress(progress)).catch(() => {});
  };
}
