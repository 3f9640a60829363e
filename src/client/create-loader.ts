import * as Comlink from 'comlink';
import { AbortError, NetworkError } from '../core/errors.js';
import { type LoaderWorkerApi, registerErrorTransfer, type WorkerLoadRequest } from '../protocol.js';
import type {
  AdapterSummary,
  BatchLanded,
  EncodingRequest,
  LoadProgress,
  MemoryInfo,
  TableSchema,
  UploadStrategy,
} from '../types.js';
import { GpuTable } from './gpu-table.js';
import { checkLoaderOptions, checkLoadOptions, checkOpenOptions, invalidOption } from './options.js';
import { TableFeed } from './table-feed.js';
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
}

/** Options of one `load`. */
export interface LoadOptions {
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
  /** Fails with `NETWORK` when the server sends no byte for this many milliseconds. */
  timeoutMs?: number;
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
export interface InspectOptions {
  /** Columns to plan, by name, in this order; default all. A struct's name selects all its children. */
  columns?: readonly string[];
  /** Encodings as `load` takes them; a misfit is `INVALID_ARGUMENT`, as it would be for the load. */
  encodings?: EncodingRequest;
  /** Columns without a GPU encoding: `'skip'` (default here) lists them in `skipped`; `'error'` fails as a load would. */
  unsupported?: 'error' | 'skip';
  /** Cancels the request; `inspect` rejects with an `AbortError` (code `ABORTED`). */
  signal?: AbortSignal;
  /** Fails with `NETWORK` when the server sends no byte for this many milliseconds. */
  timeoutMs?: number;
}

/** A worker that owns a GPU device and loads Arrow IPC into it. */
export interface Loader {
  /** Fetches `url` (IPC stream or file format) and uploads its columns as they arrive. */
  load(url: string | URL, options?: LoadOptions): Promise<GpuTable>;
  /**
   * Loads `url` as `load` does, but resolves as soon as its schema is known, with a table whose rows
   * grow as batches land (`numRows`, `columns`, `onBatch`); `table.done` settles when the load ends,
   * rejecting with the error `load` would have. Its column buffers are made once and never replaced.
   */
  open(url: string | URL, options?: OpenOptions): Promise<GpuTable>;
  /**
   * Reads only the schema of `url` (a stream's first message; a file's first message or its footer) and
   * says how `load` with the same options would lay each column on the GPU. Makes no GPU buffer; the
   * request is closed as soon as the schema is read.
   */
  inspect(url: string | URL, options?: InspectOptions): Promise<TableSchema>;
  /** The adapter the device runs on. */
  adapterInfo(): Promise<AdapterSummary>;
  /** GPU buffers alive in the worker (tables, staging buffers). */
  memory(): Promise<MemoryInfo>;
  /** Releases the staging buffers now; they are released anyway about a second after the last load. */
  trim(): Promise<void>;
  /** Destroys every buffer and terminates the worker. */
  close(): Promise<void>;
}

/** Starts the worker and its GPU device. Rejects when WebGPU is unavailable, or with `INVALID_ARGUMENT`. */
export async function createLoader(options: LoaderOptions = {}): Promise<Loader> {
  checkLoaderOptions(options);
  const { maxBufferBytes } = options;
  registerErrorTransfer();
  const worker = startWorker(options.workerUrl);
  const remote = Comlink.wrap<LoaderWorkerApi>(worker);
  const guard = new WorkerGuard(worker, { ping: () => remote.ping() });
  let nextLoadId = 1;
  let closed = false;

  try {
    await guard.run(() =>
      remote.init({
        upload: options.upload ?? 'staging',
        // Column buffers are 32-bit words.
        maxBufferBytes: maxBufferBytes === undefined ? undefined : maxBufferBytes - (maxBufferBytes % 4),
        chunkBytes: options.chunkBytes,
      }),
    );
  } catch (error) {
    worker.terminate();
    throw error;
  }

  /** Runs one worker call that `signal` cancels through `cancel(loadId)`. */
  async function cancellable<T>(
    what: string,
    href: string,
    signal: AbortSignal | undefined,
    call: (loadId: number) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted)
      throw new AbortError(`${what} of ${href} was aborted before it started`, { url: href });
    const loadId = nextLoadId++;
    const onAbort = () => void guard.run(async () => remote.cancel(loadId)).catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await guard.run(() => call(loadId));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Calls `remote.open`, then follows the load to its end; `signal` cancels it until then. */
  async function open(href: string, options: OpenOptions): Promise<GpuTable> {
    const { signal, onProgress, onBatch } = options;
    if (signal?.aborted) throw new AbortError(`Load of ${href} was aborted before it started`, { url: href });
    const loadId = nextLoadId++;
    const onAbort = () => void guard.run(async () => remote.cancel(loadId)).catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    const stop = () => signal?.removeEventListener('abort', onAbort);
    const feed = new TableFeed(onBatch);
    try {
      const snapshot = await guard.run(() =>
        remote.open(
          workerRequest(loadId, href, options),
          onProgress ? Comlink.proxy(onProgress) : undefined,
          Comlink.proxy(feed.receive),
        ),
      );
      const ended = guard.run(() => remote.loaded(loadId));
      ended.then(stop, stop);
      return new GpuTable(snapshot, remote, guard, { feed, ended });
    } catch (error) {
      stop();
      throw error;
    }
  }

  return {
    async load(url, loadOptions = {}) {
      checkLoadOptions(loadOptions);
      const { signal, onProgress } = loadOptions;
      const href = resolveUrl(url);
      const progress = onProgress ? Comlink.proxy(onProgress) : undefined;
      const snapshot = await cancellable('Load', href, signal, (loadId) =>
        remote.load(workerRequest(loadId, href, loadOptions), progress),
      );
      return new GpuTable(snapshot, remote, guard);
    },
    async open(url, openOptions = {}) {
      checkOpenOptions(openOptions);
      return open(resolveUrl(url), openOptions);
    },
    async inspect(url, inspectOptions = {}) {
      checkLoadOptions(inspectOptions); // the same checks: inspect takes a subset of load's options
      const href = resolveUrl(url);
      return cancellable('Inspection', href, inspectOptions.signal, (loadId) =>
        remote.inspect({
          loadId,
          url: href,
          columns: inspectOptions.columns ? [...inspectOptions.columns] : undefined,
          encodings: inspectOptions.encodings,
          unsupported: inspectOptions.unsupported,
          timeoutMs: inspectOptions.timeoutMs,
        }),
      );
    },
    adapterInfo: () => guard.run(() => remote.adapterInfo()),
    memory: () => guard.run(() => remote.memory()),
    trim: () => guard.run(() => remote.trim()),
    async close() {
      if (closed) return;
      closed = true;
      // The worker frees its GPU buffers before it is terminated (unless it already died).
      await guard.close('The loader was closed', () => remote.close());
      remote[Comlink.releaseProxy]();
    },
  };
}

/** One `load` or `open` as it crosses to the worker. */
function workerRequest(loadId: number, href: string, options: LoadOptions): WorkerLoadRequest {
  return {
    loadId,
    url: href,
    columns: options.columns ? [...options.columns] : undefined,
    encodings: options.encodings,
    unsupported: options.unsupported,
    maxDictionary: options.maxDictionary,
    rows: options.rows,
    upload: options.upload,
    timeoutMs: options.timeoutMs,
  };
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

/** The absolute URL the worker fetches (a worker resolves relative URLs against its own script, not the page). */
function resolveUrl(url: string | URL): string {
  try {
    return new URL(url, globalThis.location?.href).href;
  } catch {
    throw new NetworkError(`${String(url)} is not a valid URL`, { url: String(url) });
  }
}
