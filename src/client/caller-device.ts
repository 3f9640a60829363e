import * as Comlink from 'comlink';
import type { DeviceChannel, RemoteDeviceInfo } from '../core/gpu/remote/device-channel.js';
import { CallerTables } from '../core/service/caller-tables.js';
import type { LoaderWorkerApi, TableCalls, TableSnapshot } from '../protocol.js';
import { DeviceTable } from './device-table.js';
import type { WorkerGuard } from './worker-guard.js';

/**
 * The caller's side of a loader given a device: the channel the worker writes through, and the tables
 * it loaded there, whose queries and reads run on this thread.
 */
export class CallerDevice {
  readonly tables: CallerTables;
  readonly #device: GPUDevice;
  /** The worker's id of each table, by the id it has here. */
  readonly #workerIds = new Map<number, number>();

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
      write: async (bytes, writes) => {
        const written = await writer.write(bytes, writes);
        return Comlink.transfer(written, [written.bytes]);
      },
      destroy: (ids) => writer.destroy(ids),
      done: () => writer.done(),
    });
  }

  /** The table the worker loaded as `snapshot`, held here; its buffers are the caller's to bind. */
  async table(
    snapshot: TableSnapshot,
    remote: Comlink.Remote<LoaderWorkerApi>,
    guard: WorkerGuard,
  ): Promise<DeviceTable> {
    let local: TableSnapshot;
    try {
      local = this.tables.add(await guard.run(() => remote.remoteTable(snapshot.tableId)));
    } catch (error) {
      await guard.run(() => remote.destroyTable(snapshot.tableId)).catch(() => {});
      throw error;
    }
    this.#workerIds.set(local.tableId, snapshot.tableId);
    const columns = this.tables.loaded(local.tableId).columns;
    return new DeviceTable(local, this.#calls(remote, guard), guard, columns);
  }

  /** A table's calls, answered here; `destroyTable` also drops the worker's record of the table. */
  #calls(remote: Comlink.Remote<LoaderWorkerApi>, guard: WorkerGuard): TableCalls {
    const t = this.tables;
    return {
      readColumn: (id, name) => t.readColumn(id, name),
      readValidity: (id, name) => t.readValidity(id, name),
      dictionary: (id, name) => t.dictionary(id, name),
      wgsl: (id, names, options) => t.wgsl(id, names, options),
      describe: (id, name, options) => t.describe(id, name, options),
      filter: (id, predicate) => t.filter(id, predicate),
      destroyFilter: (id, filterId) => t.destroyFilter(id, filterId),
      histogram: (id, name, options, query) => t.histogram(id, name, options, query),
      crossfilter: (id, options) => t.crossfilter(id, options),
      readRows: (id, options, query) => t.readRows(id, options, query),
      destroyTable: async (id) => {
        await t.destroyTable(id);
        const workerId = this.#workerIds.get(id);
        this.#workerIds.delete(id);
        if (workerId !== undefined) await guard.run(() => remote.destroyTable(workerId));
      },
    };
  }

  /** Destroys every buffer made on the caller's device; the device stays the caller's. */
  close(): void {
    this.tables.close();
  }
}
