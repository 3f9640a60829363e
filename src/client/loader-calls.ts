import * as Comlink from 'comlink';
import { AbortError, ArgumentError } from '../core/errors.js';
import type { LoaderWorkerApi, WorkerLoadRequest } from '../protocol.js';
import type { LoadSource, TableSchema } from '../types.js';
import type { CallerDevice } from './caller-device.js';
import type { InspectOptions, LoadOptions, OpenOptions, RenderOptions } from './create-loader.js';
import { GpuTable, tableHandle } from './gpu-table.js';
import { discardSource, prepareSource, type WireSource } from './load-source.js';
import { checkLoadOptions, checkOpenOptions, invalidOption } from './options.js';
import { RenderView, workerViewSettings } from './render-view.js';
import { TableFeed } from './table-feed.js';
import type { WorkerGuard } from './worker-guard.js';

/** What a loader's calls share: the worker's API, the guard that fails them if it dies, the caller's device. */
export interface LoaderLink {
  remote: Comlink.Remote<LoaderWorkerApi>;
  guard: WorkerGuard;
  /** The caller's device, for a loader given one; `null` when the worker owns the device. */
  caller: CallerDevice | null;
  /** A new load's id, unique to this loader. */
  nextLoadId(): number;
}

/** `loader.load`: the whole load, then the table. */
export async function loadTable(
  link: LoaderLink,
  source: LoadSource,
  options: LoadOptions,
): Promise<GpuTable> {
  const { remote, guard, caller } = link;
  const wire = prepareSource(source, options, checkLoadOptions);
  const progress = options.onProgress ? Comlink.proxy(options.onProgress) : undefined;
  const snapshot = await cancellable(link, 'Load', wire, options.signal, (loadId) =>
    remote.load(Comlink.transfer(workerRequest(loadId, wire, options), wire.transfer), progress),
  );
  return caller ? caller.table(snapshot, remote, guard) : new GpuTable(snapshot, remote, guard);
}

/** `loader.open`: the table once the schema is known, then its rows as they land; `signal` cancels until the end. */
export async function openTable(
  link: LoaderLink,
  source: LoadSource,
  options: OpenOptions,
): Promise<GpuTable> {
  const { remote, guard, caller } = link;
  const wire = prepareSource(source, options, checkOpenOptions);
  const { signal, onProgress, onBatch } = options;
  if (signal?.aborted) {
    if (wire.source?.kind === 'stream') discardSource(wire.source.stream, signal.reason);
    throw new AbortError(`Load of ${wire.url} was aborted before it started`, { url: wire.url });
  }
  const loadId = link.nextLoadId();
  const onAbort = () => void guard.run(async () => remote.cancel(loadId)).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  const stop = () => signal?.removeEventListener('abort', onAbort);
  const feed = new TableFeed(onBatch);
  try {
    const request = workerRequest(loadId, wire, options);
    const snapshot = await guard.run(() =>
      remote.open(
        Comlink.transfer(request, wire.transfer),
        onProgress ? Comlink.proxy(onProgress) : undefined,
        Comlink.proxy(feed.receive),
      ),
    );
    const ended = guard.run(() => remote.loaded(loadId));
    ended.then(stop, stop);
    if (caller) return caller.openedTable(snapshot, remote, guard, { feed, ended });
    return new GpuTable(snapshot, remote, guard, { feed, ended });
  } catch (error) {
    stop();
    if (wire.source?.kind === 'stream') discardSource(wire.source.stream, error);
    throw error;
  }
}

/** `loader.inspect`: the schema and how a load with the same options would lay out each column. */
export async function inspectSource(
  link: LoaderLink,
  source: LoadSource,
  options: InspectOptions,
): Promise<TableSchema> {
  // The same checks as load's: inspect takes a subset of its options.
  const wire = prepareSource(source, options, checkLoadOptions);
  return cancellable(link, 'Inspection', wire, options.signal, (loadId) => {
    const { columns, encodings, unsupported, timeoutMs } = options;
    const planned = columns ? [...columns] : undefined;
    const request = sourced(wire, {
      loadId,
      url: wire.url,
      columns: planned,
      encodings,
      unsupported,
      timeoutMs,
    });
    return link.remote.inspect(Comlink.transfer(request, wire.transfer));
  });
}

/** `loader.render`: moves `canvas` to the worker, which draws the table with its own device. */
export async function renderTable(
  link: LoaderLink,
  canvas: OffscreenCanvas,
  options: RenderOptions,
): Promise<RenderView> {
  const { remote, guard } = link;
  if (link.caller)
    throw onCallerDevice('render', "draw it with table.columns[i].buffers in the device's own pipelines");
  checkCanvas(canvas);
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('render', 'options', 'an object { table, x, y, … }', options);
  }
  const { table, ...settings } = options;
  const handle = tableHandle(table);
  if (!handle || handle.remote !== remote) {
    throw invalidOption('render', 'table', 'a table this loader loaded', table);
  }
  const request = { ...workerViewSettings(table, settings), tableId: handle.tableId };
  const info = await guard.run(() => remote.render(Comlink.transfer(canvas, [canvas]), request));
  return new RenderView(info, table, remote, guard);
}

/**
 * Runs one worker call that `signal` cancels through `cancel(loadId)`. A stream source that the call
 * did not take (aborted before it started, the worker gone) is cancelled: nothing is left pulling.
 */
async function cancellable<T>(
  link: LoaderLink,
  what: string,
  wire: WireSource,
  signal: AbortSignal | undefined,
  call: (loadId: number) => Promise<T>,
): Promise<T> {
  const { remote, guard } = link;
  const href = wire.url;
  try {
    if (signal?.aborted)
      throw new AbortError(`${what} of ${href} was aborted before it started`, { url: href });
    const loadId = link.nextLoadId();
    const onAbort = () => void guard.run(async () => remote.cancel(loadId)).catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await guard.run(() => call(loadId));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  } catch (error) {
    if (wire.source?.kind === 'stream') discardSource(wire.source.stream, error);
    throw error;
  }
}

/** `request` with what `wire` carries to the worker besides its URL: request options, a source to read. */
function sourced<R extends object>(wire: WireSource, request: R): R {
  return {
    ...request,
    ...(wire.request ? { request: wire.request } : {}),
    ...(wire.source ? { source: wire.source } : {}),
  };
}

/** One `load` or `open` as it crosses to the worker. */
function workerRequest(loadId: number, wire: WireSource, options: LoadOptions): WorkerLoadRequest {
  return sourced(wire, {
    loadId,
    url: wire.url,
    columns: options.columns ? [...options.columns] : undefined,
    encodings: options.encodings,
    unsupported: options.unsupported,
    maxDictionary: options.maxDictionary,
    rows: options.rows,
    upload: options.upload,
    timeoutMs: options.timeoutMs,
    decodeWorkers: options.decodeWorkers,
  });
}

/** What a loader given a device does not do: `call` draws or hands out tables in the worker's own way. */
function onCallerDevice(call: string, instead: string): ArgumentError {
  return new ArgumentError(
    `${call}() is not available on a loader made with { device }: the tables live on the caller's device; ${instead}`,
    { option: 'device' },
  );
}

/** `INVALID_ARGUMENT` unless `canvas` is an `OffscreenCanvas` (a `<canvas>` element must be transferred first). */
function checkCanvas(canvas: unknown): asserts canvas is OffscreenCanvas {
  if (typeof OffscreenCanvas !== 'undefined' && canvas instanceof OffscreenCanvas) return;
  const element = typeof HTMLCanvasElement !== 'undefined' && canvas instanceof HTMLCanvasElement;
  const expected = element
    ? 'an OffscreenCanvas: call canvas.transferControlToOffscreen() and pass what it returns'
    : 'an OffscreenCanvas (from canvas.transferControlToOffscreen())';
  throw invalidOption('render', 'canvas', expected, canvas);
}
