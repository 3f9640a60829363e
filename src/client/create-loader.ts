import * as Comlink from 'comlink';
import { type LoaderWorkerApi, registerErrorTransfer } from '../protocol.js';
import type {
  AdapterSummary,
  BatchLanded,
  EncodingRequest,
  LoadProgress,
  LoadSource,
  MemoryInfo,
  RequestOptions,
  TableSchema,
  UploadStrategy,
} from '../types.js';
import type { DeviceTable } from './device-table.js';
import type { GpuTable } from './gpu-table.js';
import { inspectSource, type LoaderLink, loadTable, openTable, renderTable } from './loader-calls.js';
import { checkLoaderOptions, invalidOption } from './options.js';
import type { RenderUpdate, RenderView } from './render-view.js';
import { WorkerGuard } from './worker-guard.js';

/** Options of `createLoader`. */
export interface LoaderOptions {
  /** Default upload strategy of this loader's loads. Default `'staging'`. */
  upload?: UploadStrategy;
  /** Where the worker script is, when the bundled one cannot be found next to this module. */
  workerUrl?: string | URL;
  /**
   * Largest GPU buffer one column (its values, or its validity words) may take, in bytes; default and
   * ceiling: the device's `maxBufferSize`. A load whose column needs more fails with `LIMIT_EXCEEDED`
   * naming the column, and frees what it made. Caps the GPU memory a table can take per column.
   */
  maxBufferBytes?: number;
  /**
   * Largest GPU buffer of one column chunk, in bytes; default: what the device can bind
   * (`maxStorageBufferBindingSize`) and allocate. Longer columns are stored as several chunks.
   */
  chunkBytes?: number;
  /**
   * Workers that decode record batches (decompression included) and encode their columns beside the
   * loader's worker, each batch still landing in order; 0 or 1 decodes on the loader's worker. Default:
   * one a core beyond the loader's (`navigator.hardwareConcurrency − 1`), at most 4, for `load`s whose
   * first record batch is 2 MiB or more (smaller batches cost more to send than to decode; `open`
   * decodes on the loader's worker, to hand its table out at the schema); asked for here or per load,
   * they take every batch.
   */
  decodeWorkers?: number;
  /**
   * Whether a URL's response is read on a worker of its own, which moves its bytes to the loader's
   * worker: the download then keeps going while the loader's worker decodes and uploads (a browser
   * reads a response only between the tasks of the thread that asked for it). Default: `true` with 3
   * or more cores (`navigator.hardwareConcurrency`). Other sources (a `Response`, a stream, a Blob,
   * bytes) are read on the loader's worker.
   */
  readWorker?: boolean;
  /**
   * The caller's own `GPUDevice`: tables are loaded onto it (the worker still fetches, decodes and
   * encodes; this thread writes the chunks it posts, in short tasks), their `columns[i].buffers` are
   * bindable in the caller's pipelines, and queries and reads run on it. `render` is not available:
   * the caller draws. Default: the worker opens and owns a device.
   */
  device?: GPUDevice;
}

/** Options of one `load`. */
export interface LoadOptions extends RequestOptions {
  /**
   * Columns to upload, by name, in this order; default all. Columns left out may have any type. A
   * struct's name selects all its children (`parent.child`).
   */
  columns?: readonly string[];
  /**
   * How columns lie on the GPU: `'auto'` (default: exact for integers and timestamps, f32 for Float64),
   * `'exact'` (nothing lost: Float64 as `f64` too), or an encoding per column name, e.g.
   * `{ ts: 'f32-relative', id: 'i64' }`. A misfit is `INVALID_ARGUMENT`.
   */
  encodings?: EncodingRequest;
  /**
   * Columns without a GPU encoding: `'error'` (default) fails the load naming them all; `'skip'` loads
   * the others and lists these in `table.skipped`.
   */
  unsupported?: 'error' | 'skip';
  /** Most distinct values of one dictionary column (default 1,000,000); more is `LIMIT_EXCEEDED`. */
  maxDictionary?: number;
  /** Rows the source holds, when known: each column chunk is then allocated once, at its final size. */
  rows?: number;
  /** Cancels fetch, decode and upload; the load rejects with an `AbortError` (code `ABORTED`). */
  signal?: AbortSignal;
  /** Called from the worker at most every ~50 ms, and once at the end. */
  onProgress?: (progress: LoadProgress) => void;
  /** Overrides the loader's upload strategy for this load. */
  upload?: UploadStrategy;
  /** Fails with `NETWORK` when the server (or a stream source) sends no byte for this many milliseconds. */
  timeoutMs?: number;
  /** Overrides the loader's `decodeWorkers` for this load. */
  decodeWorkers?: number;
  /**
   * An `ArrayBuffer` or `Uint8Array` source is transferred to the worker, not copied: the caller's buffer
   * is detached. `true` copies it instead, so that the caller keeps it (to load it again, say).
   */
  keepBytes?: boolean;
}

/** Options of one `open`: those of `load`, and a callback for each batch that lands. */
export interface OpenOptions extends LoadOptions {
  /**
   * Called once per batch, in order, when its rows are on the GPU: `batch` is its index in the source,
   * `rows` the table's rows through it (`table.numRows` already counts them). Several batches that land
   * together are reported one after the other.
   */
  onBatch?: (landed: BatchLanded) => void;
}

/** Options of one `inspect`: those of `load` that decide the columns and their encodings, and the request's. */
export interface InspectOptions extends RequestOptions {
  /** Columns to plan, by name, in this order; default all. A struct's name selects all its children. */
  columns?: readonly string[];
  /** Encodings as `load` takes them; a misfit is `INVALID_ARGUMENT`, as it would be for the load. */
  encodings?: EncodingRequest;
  /** Columns without a GPU encoding: `'skip'` (default here) lists them in `skipped`; `'error'` fails as a load would. */
  unsupported?: 'error' | 'skip';
  /** Cancels the request; `inspect` rejects with an `AbortError` (code `ABORTED`). */
  signal?: AbortSignal;
  /** Fails with `NETWORK` when the server (or a stream source) sends no byte for this many milliseconds. */
  timeoutMs?: number;
  /** As for `load`: copy an `ArrayBuffer` or `Uint8Array` source instead of transferring it. */
  keepBytes?: boolean;
}

/** Options of `render`: the table to draw, the view's settings (see `RenderSettings`) and a filter. */
export interface RenderOptions extends RenderUpdate {
  /** A table loaded by the same loader. */
  table: GpuTable;
}

/** A worker that owns a GPU device and loads Arrow IPC into it. */
export interface Loader {
  /**
   * Reads `source` (IPC stream or file format: a URL fetched in the worker, a Response, a stream, a Blob
   * or bytes) and uploads its columns as they arrive. A stream or Response is read once: the load reads
   * it to its end or cancels it, whatever happens.
   */
  load(source: LoadSource, options?: LoadOptions): Promise<GpuTable>;
  /**
   * Loads `source` as `load` does, but resolves as soon as its schema is known, with a table whose rows
   * grow as batches land (`numRows`, `columns`, `onBatch`); `table.done` settles when the load ends,
   * rejecting with the error `load` would have. Its column buffers are made once and never replaced.
   */
  open(source: LoadSource, options?: OpenOptions): Promise<GpuTable>;
  /**
   * Reads only the schema of `source` (a stream's first message; a file's first message or its footer)
   * and says how `load` with the same options would lay each column on the GPU. Makes no GPU buffer;
   * the request (or stream) is closed as soon as the schema is read.
   */
  inspect(source: LoadSource, options?: InspectOptions): Promise<TableSchema>;
  /**
   * Draws `options.table` on `canvas`, an `OffscreenCanvas` from `transferControlToOffscreen()` that is
   * transferred to the worker: the worker draws with its own device, reading the column buffers where
   * they are. Resolves with the view once its first frame is drawn.
   */
  render(canvas: OffscreenCanvas, options: RenderOptions): Promise<RenderView>;
  /** The adapter the device runs on. */
  adapterInfo(): Promise<AdapterSummary>;
  /** GPU buffers alive on the loader's device, the worker's or the caller's (tables, staging buffers). */
  memory(): Promise<MemoryInfo>;
  /**
   * Releases the staging buffers now (and, on the caller's device, the worker's transfer buffers); they
   * are released anyway about a second after the last load.
   */
  trim(): Promise<void>;
  /** Destroys every buffer and terminates the worker. */
  close(): Promise<void>;
}

/** A loader given the caller's device: its tables hold their buffers (`DeviceTable`). */
export interface DeviceLoader extends Loader {
  /** Loads `source` onto the caller's device; see `Loader.load`. */
  load(source: LoadSource, options?: LoadOptions): Promise<DeviceTable>;
  /** Opens `source` onto the caller's device; see `Loader.open`. Chunks are added as rows land, never replaced. */
  open(source: LoadSource, options?: OpenOptions): Promise<DeviceTable>;
}

/**
 * Starts the worker and its GPU device (or, given `device`, takes the caller's). Rejects when WebGPU is
 * unavailable, or with `INVALID_ARGUMENT`.
 */
export async function createLoader(options: LoaderOptions & { device: GPUDevice }): Promise<DeviceLoader>;
export async function createLoader(options?: LoaderOptions): Promise<Loader>;
export async function createLoader(options: LoaderOptions = {}): Promise<Loader | DeviceLoader> {
  checkLoaderOptions(options);
  const { maxBufferBytes } = options;
  registerErrorTransfer();
  // The caller's side (queries, reads, apache-arrow) loads only for a loader given a device.
  const caller = options.device
    ? new (await import('./caller-device.js')).CallerDevice(options.device, wordBytes(maxBufferBytes))
    : null;
  const worker = startWorker(options.workerUrl);
  const remote = Comlink.wrap<LoaderWorkerApi>(worker);
  const guard = new WorkerGuard(worker, { ping: () => remote.ping() });
  // A worker that dies mid-load leaves nothing of that load on the caller's device.
  if (caller) guard.onFail((error) => caller.workerDied(error));
  try {
    await guard.run(() =>
      remote.init(
        {
          upload: options.upload ?? 'staging',
          maxBufferBytes: wordBytes(maxBufferBytes),
          chunkBytes: options.chunkBytes,
          decodeWorkers: options.decodeWorkers,
          readWorker: options.readWorker,
          ...(caller ? { device: caller.info() } : {}),
        },
        caller?.channel(),
      ),
    );
  } catch (error) {
    caller?.close();
    worker.terminate();
    throw error;
  }
  // Loads running on the caller's device when it is lost fail with DEVICE_LOST, as on the worker's.
  options.device?.lost.then(
    (lost) => guard.run(async () => remote.deviceLost(lost.message || String(lost.reason))).catch(() => {}),
    () => {},
  );
  let nextLoadId = 1;
  let closed = false;
  const link: LoaderLink = { remote, guard, caller, nextLoadId: () => nextLoadId++ };
  return {
    load: async (source, loadOptions = {}) => loadTable(link, source, loadOptions),
    open: async (source, openOptions = {}) => openTable(link, source, openOptions),
    inspect: async (source, inspectOptions = {}) => inspectSource(link, source, inspectOptions),
    render: async (canvas, renderOptions) => renderTable(link, canvas, renderOptions),
    adapterInfo: () => guard.run(() => remote.adapterInfo()),
    memory: async () => (caller ? caller.tables.memory() : guard.run(() => remote.memory())),
    trim: async () => {
      // The caller's staging buffers go even when the worker is gone (its call then rejects).
      await caller?.tables.trim();
      await guard.run(() => remote.trim());
    },
    async close() {
      if (closed) return;
      closed = true;
      // The worker frees its GPU buffers before it is terminated (unless it already died).
      await guard.close('The loader was closed', () => remote.close());
      caller?.close();
      remote[Comlink.releaseProxy]();
    },
  };
}

/** Column buffers are 32-bit words: a cap in bytes, rounded down to a whole word. */
function wordBytes(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes - (bytes % 4);
}

/** The loader's worker; a `workerUrl` the browser refuses (malformed, cross-origin) is `INVALID_ARGUMENT`. */
function startWorker(workerUrl: string | URL | undefined): Worker {
  // The options stay literal in the first call: Vite bundles the worker only when it can read them.
  if (!workerUrl) {
    return new Worker(new URL('../../workers/loader.worker.ts', import.meta.url), {
      type: 'module',
      name: 'arrow-webgpu',
    });
  }
  try {
    return new Worker(workerUrl, { type: 'module', name: 'arrow-webgpu' });
  } catch (error) {
    throw invalidOption('createLoader', 'workerUrl', `a URL a worker can start from (${error})`, workerUrl);
  }
}
