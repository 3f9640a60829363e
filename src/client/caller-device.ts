import * as Comlink from 'comlink';
import { asArrowGpuError, WorkerFailedError } from '../core/errors.js';
import type { DeviceChannel, RemoteDeviceInfo } from '../core/gpu/remote/device-channel.js';
import type { UploadedColumn } from '../core/gpu/upload/table-uploader.js';
import { CallerTables } from '../core/service/caller-tables.js';
import type { LoaderWorkerApi, TableCalls, TableSnapshot } from '../protocol.js';
import { DeviceTable } from './device-table.js';
import type { TableFeed } from './table-feed.js';
import type { CallRunner, WorkerGuard } from './worker-guard.js';

/**
 * The caller's side of a loader given a device: the channel the worker writes through, and the tables
 * it loaded there, whose queries and reads run on this thread. When the worker dies, what its loads in
 * flight made here goes at once; tables that finished loading stay usable until destroyed or closed.
 */
export class CallerDevice {
  readonly tables: CallerTables;
  readonly #device: GPUDevice;
  /** The worker's id of each table, by the id it has here. */
  readonly #workerIds = new Map<number, number>();
  /** Tables from `open` still loading, by their id here: the worker's death fails them. */
  readonly #filling = new Set<number>();
  /** Set by `close`: every table went with the loader, and their calls say so. */
  #closed: WorkerFailedError | null = null;
  /** Runs a table's calls on this thread: they need no worker, so they outlive one that died. */
  readonly #local: CallRunner = {
    run: <T>(call: () => Promise<T>): Promise<T> => {
      if (this.#closed) return Promise.reject(this.#closed);
      return new Promise<T>((settle) => settle(call())).catch((error: unknown) => {
        throw asArrowGpuError(error);
      });
    },
  };

  constructor(device: GPUDevice, maxBufferBytes?: number) {
    this.#device = device;
    this.tables = new CallerTables(device, maxBufferBytes);
  }

  /** The device as the worker sizes buffers for it. */
  info(): RemoteDeviceInfo {
    const { limits } = this.#device;
    const adapter = (this.#device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    return {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      vendor: adapter?.vendor ?? '',
      architecture: adapter?.architecture ?? '',
      description: adapter?.description ?? '',
    };
  }

  /** The writer as the worker calls it: a proxy that transfers each written chunk back, not a copy. */
  channel(): DeviceChannel {
    const writer = this.tables.writer;
    return Comlink.proxy<DeviceChannel>({
      create: (spec) => writer.create(spec),
      write: async (bytes, writes, session) => {
        const written = await writer.write(bytes, writes, session);
        return Comlink.transfer(written, [written.bytes]);
      },
      destroy: (ids) => writer.destroy(ids),
      done: (session) => writer.done(session),
      settled: (session) => writer.settled(session),
    });
  }

  /** The table the worker loaded as `snapshot`, held here; its buffers are the caller's to bind. */
  async table(
    snapshot: TableSnapshot,
    remote: Comlink.Remote<LoaderWorkerApi>,
    guard: WorkerGuard,
  ): Promise<DeviceTable> {
    const local = await this.#adopt(snapshot, remote, guard, false);
    return new DeviceTable(local, this.#calls(remote, guard), this.#local, this.#uploaded(local.tableId));
  }

  /**
   * The table of an `open` (`snapshot`, as the schema came), held here as it fills: each update from
   * `feed` brings the columns' buffers by id, and the load's end (`ended`) its final state or its error.
   */
  async openedTable(
    snapshot: TableSnapshot,
    remote: Comlink.Remote<LoaderWorkerApi>,
    guard: WorkerGuard,
    live: { feed: TableFeed; ended: Promise<TableSnapshot> },
  ): Promise<DeviceTable> {
    const local = await this.#adopt(snapshot, remote, guard, true);
    const id = local.tableId;
    let applied = snapshot.updates ?? 0;
    const feed: Pick<TableFeed, 'follow' | 'ended'> = {
      follow: (apply) =>
        live.feed.follow((update) => {
          const fresh = this.tables.has(id) && update.numRows >= this.tables.loaded(id).numRows;
          if (update.seq > applied && update.remote && fresh) {
            applied = update.seq;
            this.tables.update(id, update.numRows, update.remote);
          }
          apply(update);
        }),
      ended: (final) => live.feed.ended(final),
    };
    const ended = live.ended.then(
      async (final) => {
        const spec = await guard.run(() => remote.remoteTable(snapshot.tableId));
        if (this.tables.has(id)) this.tables.update(id, spec.numRows, spec.columns);
        this.#filling.delete(id);
        return { ...final, tableId: id };
      },
      (error: unknown) => {
        this.#filling.delete(id);
        this.tables.fail(id, asArrowGpuError(error));
        throw error;
      },
    );
    const calls = this.#calls(remote, guard);
    const following = { feed, ended };
    return new DeviceTable({ ...local, updates: applied }, calls, this.#local, this.#uploaded(id), following);
  }

  /** Takes the worker's table `snapshot` here (`filling`: still loading); its id and description here. */
  async #adopt(
    snapshot: TableSnapshot,
    remote: Comlink.Remote<LoaderWorkerApi>,
    guard: WorkerGuard,
    filling: boolean,
  ): Promise<TableSnapshot> {
    let local: TableSnapshot;
    try {
      local = this.tables.add(await guard.run(() => remote.remoteTable(snapshot.tableId)));
    } catch (error) {
      await guard.run(() => remote.destroyTable(snapshot.tableId)).catch(() => {});
      throw error;
    }
    this.#workerIds.set(local.tableId, snapshot.tableId);
    if (filling) this.#filling.add(local.tableId);
    return local;
  }

  /** The columns of table `id` as held here now; `null` once it is destroyed or its load failed. */
  #uploaded(id: number): () => readonly UploadedColumn[] | null {
    return () => (this.tables.has(id) ? this.tables.loaded(id).columns : null);
  }

  /** A table's calls, answered here; `destroyTable` also drops the worker's record of the table. */
  #calls(remote: Comlink.Remote<LoaderWorkerApi>, guard: WorkerGuard): TableCalls {
    const s = this.tables.store;
    return {
      readColumn: async (id, name) => s.readColumn(id, name),
      readValidity: async (id, name) => s.readValidity(id, name),
      dictionary: async (id, name) => s.dictionary(id, name),
      wgsl: async (id, names, options) => s.wgsl(id, names, options),
      describe: async (id, name, options) => s.describe(id, name, options),
      filter: async (id, predicate) => s.filter(id, predicate),
      destroyFilter: async (id, filterId) => s.destroyFilter(id, filterId),
      histogram: async (id, name, options, query) => s.histogram(id, name, options, query),
      crossfilter: async (id, options) => s.crossfilter(id, options),
      readRows: async (id, options, query) => s.readFilteredRows(id, options, query),
      destroyTable: async (id) => {
        this.tables.destroyTable(id);
        const workerId = this.#workerIds.get(id);
        this.#workerIds.delete(id);
        // A worker that died took its record of the table with it: the table is gone from here already.
        if (workerId === undefined || guard.failure) return;
        await guard
          .run(() => remote.destroyTable(workerId))
          .catch((error: unknown) => {
            if (!guard.failure) throw error;
          });
      },
    };
  }

  /**
   * The worker died (or the loader is closing): tables still loading fail with `error`, buffers of loads
   * in flight are destroyed now, and the channel makes and writes nothing more. Loaded tables stay.
   */
  workerDied(error: WorkerFailedError): void {
    this.tables.workerDied(error, this.#filling);
    this.#filling.clear();
  }

  /** Destroys every buffer made on the caller's device; the device stays the caller's. */
  close(): void {
    this.#closed ??= new WorkerFailedError('The loader was closed');
    this.tables.close();
  }
}
