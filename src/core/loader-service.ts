import type {
  ColumnBytes,
  LoaderWorkerApi,
  TableSnapshot,
  WorkerInit,
  WorkerLoadRequest,
} from '../protocol.js';
import type { AdapterSummary, LoadProgress, MemoryInfo, UploadStrategy } from '../types.js';
import { validityWordCount } from './column-layout.js';
import { ColumnError, loadAborted } from './errors.js';
import { GpuContext } from './gpu-context.js';
import type { ReadTail } from './ipc-framer.js';
import { type LoadedTable, runPipeline } from './pipeline.js';
import { readBack } from './readback.js';

/** An opened byte source: the body as it arrives and its announced length. */
export interface ByteSource {
  body: AsyncIterable<Uint8Array>;
  bytesTotal: number | null;
  /** Reads the last `length` bytes (for files whose schema is only in their footer). */
  readTail?: ReadTail;
}

/** Opens `url` (fetch in a worker, a file in Node); rejects with `HTTP_STATUS` / `NETWORK` / `ABORTED`. */
export type OpenSource = (
  url: string,
  signal: AbortSignal,
  options: { timeoutMs?: number },
) => Promise<ByteSource>;

interface StoredTable {
  table: LoadedTable;
  context: GpuContext;
}

/**
 * The worker's state: one device (replaced after a loss), the tables loaded on it and the loads in
 * flight. It implements the worker protocol but needs only a `GPU` and a way to open byte sources.
 */
export class LoaderService implements LoaderWorkerApi {
  readonly #gpu: GPU | undefined;
  readonly #openSource: OpenSource;
  #upload: UploadStrategy = 'staging';
  #maxBufferBytes: number | undefined;
  #context: Promise<GpuContext> | null = null;
  readonly #tables = new Map<number, StoredTable>();
  readonly #loads = new Map<number, { controller: AbortController; context: GpuContext | null }>();
  #nextTableId = 1;

  constructor(gpu: GPU | undefined, openSource: OpenSource) {
    this.#gpu = gpu;
    this.#openSource = openSource;
  }

  async init(options: WorkerInit): Promise<AdapterSummary> {
    this.#upload = options.upload;
    this.#maxBufferBytes = options.maxBufferBytes;
    return (await this.#device()).summary;
  }

  async adapterInfo(): Promise<AdapterSummary> {
    return (await this.#device()).summary;
  }

  async load(
    request: WorkerLoadRequest,
    onProgress?: (progress: LoadProgress) => void,
  ): Promise<TableSnapshot> {
    const startedAt = performance.now();
    const controller = new AbortController();
    const entry: { controller: AbortController; context: GpuContext | null } = { controller, context: null };
    this.#loads.set(request.loadId, entry);
    const report = onProgress
      ? (p: LoadProgress) => {
          // Fire and forget: a busy main thread must not slow the load down.
          void Promise.resolve(onProgress(p)).catch(() => {});
        }
      : undefined;
    try {
      const context = await this.#device();
      entry.context = context;
      if (controller.signal.aborted) throw loadAborted(request.url);
      const source = await this.#openSource(request.url, controller.signal, { timeoutMs: request.timeoutMs });
      const table = await runPipeline({
        gpu: context,
        source: source.body,
        readTail: source.readTail,
        url: request.url,
        bytesTotal: source.bytesTotal,
        columns: request.columns,
        upload: request.upload ?? this.#upload,
        signal: controller.signal,
        onProgress: report,
        startedAt,
      });
      if (context.lostReason !== null) {
        destroyTable(table, context);
        throw context.lostError();
      }
      const tableId = this.#nextTableId++;
      this.#tables.set(tableId, { table, context });
      return snapshot(tableId, table);
    } catch (error) {
      if (entry.context && (await lostDuring(entry.context))) throw entry.context.lostError();
      throw error;
    } finally {
      this.#loads.delete(request.loadId);
    }
  }

  cancel(loadId: number): void {
    this.#loads.get(loadId)?.controller.abort();
  }

  async readColumn(tableId: number, name: string): Promise<ColumnBytes> {
    const { table, context, column } = this.#column(tableId, name);
    const byteLength = table.numRows * 4;
    const values = column.values;
    const buffer = values
      ? await whileAlive(context, () =>
          readBack(context.device, context.tracker, values, byteLength, `column ${JSON.stringify(name)}`),
        )
      : new ArrayBuffer(0);
    this.#checkNotDestroyed(tableId, name);
    return { gpuType: column.plan.gpuType, buffer };
  }

  async readValidity(tableId: number, name: string): Promise<ArrayBuffer | null> {
    const { table, context, column } = this.#column(tableId, name);
    if (!column.validity) return null;
    const validity = column.validity;
    const byteLength = validityWordCount(table.numRows) * 4;
    const buffer = await whileAlive(context, () =>
      readBack(context.device, context.tracker, validity, byteLength, `validity of ${name}`),
    );
    this.#checkNotDestroyed(tableId, name);
    return buffer;
  }

  async destroyTable(tableId: number): Promise<void> {
    const stored = this.#tables.get(tableId);
    if (!stored) return;
    this.#tables.delete(tableId);
    destroyTable(stored.table, stored.context);
  }

  async memory(): Promise<MemoryInfo> {
    const context = await this.#context?.catch(() => null);
    return {
      liveBuffers: context?.tracker.count ?? 0,
      liveBytes: context?.tracker.bytes ?? 0,
      stagingInFlight: context?.ring.inFlight ?? 0,
      maxStagingInFlight: context?.ring.maxInFlight ?? 0,
    };
  }

  async close(): Promise<void> {
    for (const { controller } of this.#loads.values()) controller.abort();
    for (const id of [...this.#tables.keys()]) await this.destroyTable(id);
    const context = await this.#context?.catch(() => null);
    this.#context = null;
    context?.destroy();
  }

  async loseDevice(): Promise<void> {
    const context = await this.#context?.catch(() => null);
    context?.device.destroy();
    if (context) await context.device.lost;
  }

  crash(): void {
    setTimeout(() => {
      throw new Error('arrow-webgpu worker crash requested by a test');
    });
  }

  #device(): Promise<GpuContext> {
    if (!this.#context) {
      const opening = GpuContext.open(this.#gpu, (lost) => this.#onLost(lost), this.#maxBufferBytes);
      this.#context = opening;
      opening.catch(() => {
        if (this.#context === opening) this.#context = null;
      });
    }
    return this.#context;
  }

  #onLost(context: GpuContext): void {
    // The next load opens a fresh device; loads and tables on the lost one fail with DEVICE_LOST.
    if (this.#context) {
      void this.#context.then(
        (current) => {
          if (current === context) this.#context = null;
        },
        () => {},
      );
    }
    for (const load of this.#loads.values()) if (load.context === context) load.controller.abort();
    context.tracker.destroyAll();
  }

  /** A destroy that came while the copy was in flight leaves zeros behind: never hand those out. */
  #checkNotDestroyed(tableId: number, name: string): void {
    if (!this.#tables.has(tableId)) {
      throw new ColumnError('NO_SUCH_COLUMN', `Table ${tableId} was destroyed while ${name} was read`, {
        column: name,
      });
    }
  }

  #column(tableId: number, name: string) {
    const stored = this.#tables.get(tableId);
    if (!stored) throw new ColumnError('NO_SUCH_COLUMN', `Table ${tableId} was destroyed`, { column: name });
    this.#checkAlive(stored.context);
    const column = stored.table.columns.find((c) => c.plan.name === name);
    if (!column) {
      const names = stored.table.columns.map((c) => JSON.stringify(c.plan.name)).join(', ');
      throw new ColumnError(
        'NO_SUCH_COLUMN',
        `No column ${JSON.stringify(name)} in this table; it has ${names}`,
        {
          column: name,
        },
      );
    }
    return { ...stored, column };
  }

  #checkAlive(context: GpuContext): void {
    if (context.lostReason !== null) throw context.lostError();
  }
}

/**
 * True when `context`'s device is lost, or turns out lost within a task: GPU calls start failing as
 * the device goes, a moment before its `lost` promise settles.
 */
async function lostDuring(context: GpuContext): Promise<boolean> {
  if (context.lostReason !== null) return true;
  const nextTask = new Promise<false>((resolve) => setTimeout(resolve, 0, false));
  return Promise.race([context.device.lost.then(() => true), nextTask]);
}

/** Runs GPU work on `context`; it fails with `DEVICE_LOST` when the device is lost before it ends. */
async function whileAlive<T>(context: GpuContext, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    if (await lostDuring(context)) throw context.lostError();
    throw error;
  }
  if (context.lostReason !== null) throw context.lostError();
  return result;
}

function destroyTable(table: LoadedTable, context: GpuContext): void {
  for (const column of table.columns) {
    if (column.values) context.tracker.destroy(column.values);
    if (column.validity) context.tracker.destroy(column.validity);
  }
}

function snapshot(tableId: number, table: LoadedTable): TableSnapshot {
  return {
    tableId,
    numRows: table.numRows,
    columns: table.columns.map((c) => ({
      name: c.plan.name,
      arrowType: c.plan.arrowType,
      gpuType: c.plan.gpuType,
      byteLength: table.numRows * 4,
      nullCount: c.nullCount,
    })),
    stats: table.stats,
  };
}
