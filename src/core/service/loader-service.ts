import type {
  ColumnBytes,
  FilterSnapshot,
  LoaderWorkerApi,
  RenderViewInfo,
  TableSnapshot,
  TableUpdateMessage,
  WorkerInit,
  WorkerInspectRequest,
  WorkerLoadRequest,
  WorkerQueryOptions,
  WorkerRenderRequest,
  WorkerViewSettings,
} from '../../protocol.js';
import type {
  AdapterSummary,
  ColumnSummary,
  CrossfilterOptions,
  CrossfilterResult,
  DictionaryValue,
  Histogram,
  HistogramOptions,
  LoadProgress,
  MemoryInfo,
  Predicate,
  ReadRowsOptions,
  TableSchema,
  TableWgsl,
  UploadStrategy,
  WgslOptions,
} from '../../types.js';
import { ArgumentError, asArrowGpuError, loadAborted } from '../errors.js';
import type { GpuContext } from '../gpu/device-context.js';
import type { DeviceChannel } from '../gpu/remote/device-channel.js';
import { RemoteGpu } from '../gpu/remote/remote-gpu.js';
import { warmUpBytes, warmUpDataUrl, warmUpDecoder, warmUpTableBytes } from '../ipc/warm-up.js';
import { inspectSchema } from '../pipeline/inspect.js';
import { type LoadedTable, openPipeline, type PipelineInput, runPipeline } from '../pipeline/load.js';
import { DecodePool } from '../pipeline/pool/decode-pool.js';
import { MIN_POOLED_BATCH_BYTES } from '../pipeline/pool/first-batch.js';
import type { DecodeWorkers } from '../pipeline/pool/protocol.js';
import type { TableUpdate } from '../pipeline/table-publisher.js';
import type { ByteSource, OpenSource } from '../source/byte-source.js';
import { discardSourceSpec, openSourceSpec } from '../source/open-source-spec.js';
import type { ReadWorkerSource } from '../source/read-worker/read-client.js';
import { DeviceManager } from './device-manager.js';
import { type RemoteTableSpec, remoteColumns, remoteTableSpec } from './remote-table.js';
import { RenderViews, type ViewFilter } from './render-views.js';
import { columnInfos, destroyTable, lostDuring, TableStore } from './table-store.js';

interface RunningLoad {
  controller: AbortController;
  context: GpuContext | null;
}

/** The id of the first load `init` runs to warm the upload path; others count down (callers number theirs from 1). */
const WARM_UP_LOAD_ID = -1;

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
  /** The render views on tables of this service; test hooks reach them through `views`. */
  readonly views = new RenderViews();
  readonly #loads = new Map<number, RunningLoad>();
  /** How each opened load ended (its final table, or its error), until `loaded` takes it. */
  readonly #opened = new Map<number, Promise<TableSnapshot>>();
  #upload: UploadStrategy = 'staging';
  /** Reports the loss of the caller's device, when loads go to it. */
  #callerLost: ((message: string) => void) | null = null;
  #chunkBytes: number | undefined;
  /** Decode workers, when this service can start them; `#decodeWorkers` a load uses by default. */
  readonly #decodePool: DecodePool | null;
  #decodeWorkers: number;
  /** `#decodeWorkers` was asked for (`createLoader`), not the default: used whatever the batch size. */
  #decodeWorkersAsked = false;
  /** Where URLs are read off this thread, when this service can; `#useReadWorker`: whether loads do. */
  readonly #readWorker: ReadWorkerSource | null;
  #useReadWorker: boolean;

  /**
   * `decodeWorkers`: how to start decode workers, and how many a load uses unless told (none: decode
   * here); `readWorker`: a thread that reads URLs for this one (none: `openSource` reads them here).
   */
  constructor(
    gpu: GPU | undefined,
    openSource: OpenSource,
    options: { idleTrimMs?: number; decodeWorkers?: DecodeWorkers; readWorker?: ReadWorkerSource } = {},
  ) {
    this.#openSource = openSource;
    this.#readWorker = options.readWorker ?? null;
    this.#useReadWorker = options.readWorker?.byDefault ?? false;
    this.#decodePool = options.decodeWorkers
      ? new DecodePool(options.decodeWorkers.spawn, options.decodeWorkers.readsBodies)
      : null;
    this.#decodeWorkers = options.decodeWorkers?.count ?? 0;
    this.devices = new DeviceManager(gpu, (lost) => this.#onLost(lost), options.idleTrimMs);
  }

  async init(options: WorkerInit, channel?: DeviceChannel): Promise<AdapterSummary> {
    if (options.device && channel) {
      // Loads go to the caller's device; its thread says when it is lost.
      const lost = new Promise<GPUDeviceLostInfo>((resolve) => {
        this.#callerLost = (message) => resolve({ message, reason: 'unknown' } as GPUDeviceLostInfo);
      });
      this.devices.useGpu(new RemoteGpu(channel, options.device, lost).asGpu());
    }
    this.#upload = options.upload;
    this.#chunkBytes = options.chunkBytes;
    if (options.decodeWorkers !== undefined) {
      this.#decodeWorkers = options.decodeWorkers;
      this.#decodeWorkersAsked = true;
    }
    this.#useReadWorker = this.#readWorker !== null && (options.readWorker ?? this.#useReadWorker);
    if (this.#useReadWorker) this.#readWorker?.start();
    this.devices.configure(options.maxBufferBytes);
    // Compiling the decoder while the device opens keeps that work out of a new loader's first load.
    const [context] = await Promise.all([this.devices.current(), warmUpDecoder()]);
    if (!options.device) await this.#warmUpLoad();
    return context.summary;
  }

  /**
   * Loads a one-row table onto the device and destroys it, so that a new loader's first load finds the
   * upload path compiled (a small file's cold load was otherwise twice its warm one). With decode workers
   * by default, a second one goes through them: they are started and their decoding compiled before the
   * first load that needs them (a new loader's first 18 MiB batch otherwise waited 140–206 ms for them,
   * against 60–66 ms without). Then an `open` of the same table, whose lone batch goes by `writeBuffer`
   * and is published as it lands: a new loader's first live batch otherwise took 6–7 ms from its last byte
   * to the GPU against about 1 ms for the next loads' (Chromium, H100), 2 of them compiling that path and
   * the rest the device's first `writeBuffer`. Last, a table of about 2 MiB from memory: a new loader's
   * first small file (1.6 MB) otherwise waited for its bytes 8–9 ms against 4–6 (Chromium, SwiftShader;
   * one of 657 KB before it did not help). Its staging buffer goes too: an idle loader holds no GPU
   * memory. Not on a caller's device: nothing is made there before the caller's first load.
   */
  async #warmUpLoad(): Promise<void> {
    // The first on this thread whatever the loader's count; the second, when there are decode workers,
    // on all of them (two at once through the pool would start twice as many).
    const pooled = this.#decodePool && this.#decodeWorkers >= 2 ? [this.#decodeWorkers] : [];
    await Promise.all([0, ...pooled].map((decodeWorkers, i) => this.#warmUpOnce(i, decodeWorkers)));
    await this.#warmUpOnce(2, 0, true);
    await this.#warmUpOnce(3, 0, false, warmUpTableBytes());
    await this.devices.trim();
  }

  /**
   * One warm-up load (`n`: which) on `decodeWorkers` (0: this thread), through `open` if `opened`, of
   * `bytes`, or else of the one-row warm-up stream.
   */
  async #warmUpOnce(n: number, decodeWorkers: number, opened = false, bytes?: Uint8Array): Promise<void> {
    // In a browser the one-row stream is fetched from a `data:` URL, so that fetching and streaming are
    // compiled too.
    const inBrowser = typeof (globalThis as { location?: unknown }).location !== 'undefined';
    const fetched = inBrowser && !bytes;
    const source = fetched ? undefined : { kind: 'bytes' as const, bytes: bytes ?? warmUpBytes() };
    const url = fetched ? warmUpDataUrl() : 'warm-up';
    const request = { loadId: WARM_UP_LOAD_ID - n, url, source, upload: this.#upload, decodeWorkers };
    // Only a head start: a page whose policy refuses `data:` fetches, say, still gets its loader.
    const loaded = opened ? this.#openedAndLoaded(request) : this.load(request);
    await loaded.then(
      (table) => this.destroyTable(table.tableId),
      () => {},
    );
  }

  /** `open`, then the load's end; the table goes whatever that end (a failure keeps its entry otherwise). */
  async #openedAndLoaded(request: WorkerLoadRequest): Promise<TableSnapshot> {
    const { tableId } = await this.open(request);
    try {
      return await this.loaded(request.loadId);
    } catch (error) {
      await this.destroyTable(tableId);
      throw error;
    }
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
      throw await this.#loadError(error, request, entry);
    } finally {
      discardSourceSpec(request.source, loadAborted(request.url));
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
    const context = await this.#loadContext(request, entry);
    // The request is closed whenever the load ends: a failed load never keeps its connection open.
    const closeRequest = new AbortController();
    const source = await this.#open(request, entry.controller.signal, closeRequest);
    try {
      const input = this.#pipelineInput(request, context, source, closeRequest, startedAt, entry);
      const table = await runPipeline({ ...input, onProgress: onProgress && fireAndForget(onProgress) });
      this.#checkAlive(context, table);
      return this.#tables.add(table, context);
    } finally {
      closeRequest.abort();
      source.closeReads?.(); // the pipeline has ended: no read of it is under way
    }
  }

  /**
   * Starts a load and answers as soon as the schema is known, with a table that fills as batches land
   * (each landing sent to `onUpdate`); `loaded(request.loadId)` answers when the load has ended.
   */
  async open(
    request: WorkerLoadRequest,
    onProgress?: (progress: LoadProgress) => void,
    onUpdate?: (update: TableUpdateMessage) => void,
  ): Promise<TableSnapshot> {
    const startedAt = performance.now();
    const entry: RunningLoad = { controller: new AbortController(), context: null };
    this.#loads.set(request.loadId, entry);
    this.devices.loadStarted();
    const closeRequest = new AbortController();
    let tableId: number | null = null; // known once added; no view can draw the table before
    let source: ByteSource | null = null;
    try {
      const context = await this.#loadContext(request, entry);
      source = await this.#open(request, entry.controller.signal, closeRequest);
      const send = onUpdate && updateSender(onUpdate, context.transport !== undefined);
      const { table, done } = await openPipeline({
        ...this.#pipelineInput(request, context, source, closeRequest, startedAt, entry),
        onProgress: onProgress && fireAndForget(onProgress),
        onUpdate: (update) => {
          send?.(update);
          if (tableId !== null) this.views.grew(tableId);
        },
      });
      const opened = this.#tables.add(table, context);
      tableId = opened.tableId;
      const reads = source;
      const ended = this.#whenLoaded(opened.tableId, done, request, entry, context).finally(() => {
        closeRequest.abort();
        reads.closeReads?.();
      });
      ended.catch(() => {}); // reported by `loaded`
      this.#opened.set(request.loadId, ended);
      return opened;
    } catch (error) {
      closeRequest.abort();
      source?.closeReads?.();
      discardSourceSpec(request.source, loadAborted(request.url));
      this.#loads.delete(request.loadId);
      this.devices.loadEnded();
      throw await this.#loadError(error, request, entry);
    }
  }

  /** The table of the `open` with `loadId` once its load has ended, or the load's error. Answers once. */
  loaded(loadId: number): Promise<TableSnapshot> {
    const ended = this.#opened.get(loadId);
    this.#opened.delete(loadId);
    if (!ended) {
      return Promise.reject(
        new ArgumentError(`No load ${loadId} was opened, or its end was already asked for`, {
          option: 'loadId',
        }),
      );
    }
    return ended;
  }

  /** Follows an opened load to its end: the final table, or the load's error (the table then unusable). */
  async #whenLoaded(
    tableId: number,
    done: Promise<LoadedTable>,
    request: WorkerLoadRequest,
    entry: RunningLoad,
    context: GpuContext,
  ): Promise<TableSnapshot> {
    try {
      this.#checkAlive(context, await done);
      return this.#tables.snapshot(tableId);
    } catch (caught) {
      const error = await this.#loadError(caught, request, entry);
      this.#tables.fail(tableId, error);
      throw error;
    } finally {
      discardSourceSpec(request.source, loadAborted(request.url));
      this.#loads.delete(request.loadId);
      this.devices.loadEnded();
    }
  }

  /** The device a load runs on; `ABORTED` when cancelled meanwhile. */
  async #loadContext(request: WorkerLoadRequest, entry: RunningLoad): Promise<GpuContext> {
    const context = await this.devices.current();
    entry.context = context;
    if (entry.controller.signal.aborted) throw loadAborted(request.url);
    return context;
  }

  /** What a load's pipeline is given, but for its callbacks. */
  #pipelineInput(
    request: WorkerLoadRequest,
    context: GpuContext,
    source: ByteSource,
    closeRequest: AbortController,
    startedAt: number,
    entry: RunningLoad,
  ): PipelineInput {
    return {
      gpu: context,
      source: source.body,
      sourceReadsAhead: source.readsAhead,
      readTail: source.readTail,
      bodyFile: source.bodyFile,
      readAt: source.readAt,
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
      signal: entry.controller.signal,
      startedAt,
      decode: this.#decodePool ? this.#decodeFor(this.#decodePool, request) : undefined,
    };
  }

  /**
   * The decode workers of `pool` a load uses: those it or `createLoader` asked for, or by default as many
   * as the service starts, for record batches large enough to be worth sending out.
   */
  #decodeFor(pool: DecodePool, request: WorkerLoadRequest): PipelineInput['decode'] {
    if (request.decodeWorkers !== undefined) return { pool, workers: request.decodeWorkers };
    if (this.#decodeWorkersAsked) return { pool, workers: this.#decodeWorkers };
    return { pool, workers: this.#decodeWorkers, minBatchBytes: MIN_POOLED_BATCH_BYTES };
  }

  /** A table whose device was lost as it loaded is no table: its buffers go, and the load fails. */
  #checkAlive(context: GpuContext, table: LoadedTable): void {
    if (context.lostReason === null) return;
    destroyTable(table, context);
    throw context.lostError();
  }

  /**
   * The error a load rejects with (`DEVICE_LOST` when its device went meanwhile), once the staging
   * buffer made for it is gone if it never used it.
   */
  async #loadError(error: unknown, request: WorkerLoadRequest, entry: RunningLoad) {
    await entry.context?.ring.discardPrepared();
    if (entry.context && (await lostDuring(entry.context))) return entry.context.lostError();
    return asArrowGpuError(error, { url: request.url });
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
      discardSourceSpec(request.source, loadAborted(request.url));
      this.#loads.delete(request.loadId);
    }
  }

  /**
   * Opens the request's source: its URL through `openSource`, or the Blob, bytes or stream it carries.
   * Aborting `signal` (a cancel) or `closeRequest` (the end) closes it.
   */
  async #open(
    request: WorkerLoadRequest | WorkerInspectRequest,
    signal: AbortSignal,
    closeRequest: AbortController,
  ): Promise<ByteSource> {
    const closed = AbortSignal.any([signal, closeRequest.signal]);
    const options = { timeoutMs: request.timeoutMs };
    if (request.source) return openSourceSpec(request.source, request.url, closed, options);
    const open = this.#useReadWorker && this.#readWorker ? this.#readWorker.open : this.#openSource;
    return open(request.url, closed, request.request ? { ...options, request: request.request } : options);
  }

  cancel(loadId: number): void {
    this.#loads.get(loadId)?.controller.abort();
  }

  deviceLost(message: string): void {
    this.#callerLost?.(message);
  }

  async remoteTable(tableId: number): Promise<RemoteTableSpec> {
    return remoteTableSpec(this.#tables.loaded(tableId));
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

  describe(tableId: number, name: string, options?: WorkerQueryOptions): Promise<ColumnSummary> {
    return this.#tables.describe(tableId, name, options);
  }

  filter(tableId: number, predicate: Predicate): Promise<FilterSnapshot> {
    return this.#tables.filter(tableId, predicate);
  }

  async destroyFilter(tableId: number, filterId: number): Promise<void> {
    this.views.dropFilter(tableId, filterId);
    this.#tables.destroyFilter(tableId, filterId);
  }

  histogram(
    tableId: number,
    name: string,
    options?: HistogramOptions,
    query?: WorkerQueryOptions,
  ): Promise<Histogram> {
    return this.#tables.histogram(tableId, name, options, query);
  }

  crossfilter(tableId: number, options: CrossfilterOptions): Promise<CrossfilterResult> {
    return this.#tables.crossfilter(tableId, options);
  }

  /** Destroys a table; one still loading has its load cancelled first (its `loaded` rejects with `ABORTED`). */
  async readRows(
    tableId: number,
    options: ReadRowsOptions,
    query: WorkerQueryOptions = {},
  ): Promise<ArrayBuffer> {
    return this.#tables.readFilteredRows(tableId, options, query);
  }

  async destroyTable(tableId: number): Promise<void> {
    await this.#tables.stopLoading(tableId);
    this.views.destroyTable(tableId);
    this.#tables.destroy(tableId);
  }

  async render(canvas: OffscreenCanvas, request: WorkerRenderRequest): Promise<RenderViewInfo> {
    const { tableId, filterId, ...settings } = request;
    const source = this.#tables.viewSource(tableId);
    const format = this.devices.canvasFormat();
    const filter = (await this.#filterOf(tableId, filterId)) ?? { filterId: null, mask: null };
    return this.views.create(tableId, canvas, format, source, settings, filter, () =>
      this.#tables.has(tableId),
    );
  }

  async updateView(viewId: number, request: WorkerViewSettings): Promise<RenderViewInfo> {
    const { filterId, ...settings } = request;
    const filter = await this.#filterOf(this.views.tableOf(viewId), filterId);
    return this.views.update(viewId, settings, filter);
  }

  /** A filter of the table and its mask: `undefined` leaves a view's as it is, `null` takes it away. */
  async #filterOf(tableId: number, filterId: number | null | undefined): Promise<ViewFilter | undefined> {
    if (filterId === undefined) return undefined;
    if (filterId === null) return { filterId: null, mask: null };
    return { filterId, mask: await this.#tables.mask(tableId, filterId) };
  }

  resizeView(viewId: number, width: number, height: number, pixelRatio?: number): Promise<RenderViewInfo> {
    return this.views.resize(viewId, width, height, pixelRatio);
  }

  async destroyView(viewId: number): Promise<void> {
    this.views.destroy(viewId);
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
    this.views.destroyAll();
    this.#tables.destroyAll();
    this.#decodePool?.terminate();
    await this.devices.close();
  }

  #onLost(context: GpuContext): void {
    for (const load of this.#loads.values()) if (load.context === context) load.controller.abort();
    context.tracker.destroyAll();
  }
}

/** Sends each update of an opened table to the page as plain data, as progress goes. */
function updateSender(
  onUpdate: (update: TableUpdateMessage) => void,
  remote: boolean,
): (update: TableUpdate) => void {
  const send = fireAndForget(onUpdate);
  return ({ seq, numRows, batches, columns }) =>
    send({
      ...{ seq, numRows, batches, columns: columnInfos(numRows, columns) },
      // On the caller's device, its thread needs the buffers of chunks added since.
      ...(remote ? { remote: remoteColumns(columns) } : {}),
    });
}

/** A progress callback that never slows the load down: a busy main thread answers when it can. */
function fireAndForget<T>(onProgress: (progress: T) => void): (progress: T) => void {
  return (progress) => {
    void Promise.resolve(onProgress(progress)).catch(() => {});
  };
}
