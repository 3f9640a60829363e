import type { ColumnBytes, FilterSnapshot, TableSnapshot, WorkerQueryOptions } from '../../protocol.js';
import type {
  ColumnSummary,
  CrossfilterOptions,
  CrossfilterResult,
  DictionaryValue,
  Histogram,
  HistogramOptions,
  MemoryInfo,
  Predicate,
  ReadRowsOptions,
  TableWgsl,
  WgslOptions,
} from '../../types.js';
import { GpuContext } from '../gpu/device-context.js';
import { DeviceWriter } from '../gpu/remote/device-writer.js';
import type { LoadedTable } from '../pipeline/load.js';
import { type RemoteTableSpec, tableOnDevice } from './remote-table.js';
import { TableStore } from './table-store.js';

/**
 * The tables a worker loaded onto the caller's own device, kept on the caller's thread: the writer that
 * makes and fills their buffers, and the queries and reads on them, run on that device as the worker
 * runs them on its own.
 */
export class CallerTables {
  readonly context: GpuContext;
  readonly writer: DeviceWriter;
  readonly #tables = new TableStore();

  constructor(device: GPUDevice, maxBufferBytes?: number) {
    this.context = GpuContext.adopt(device, () => this.context.tracker.destroyAll(), maxBufferBytes);
    this.writer = new DeviceWriter(device, this.context.tracker);
  }

  /** Keeps the table of `spec`, whose buffers the writer made; its id here and its description. */
  add(spec: RemoteTableSpec): TableSnapshot {
    const table = tableOnDevice(spec, (id) => {
      const buffer = this.writer.buffer(id);
      if (!buffer) throw new Error(`buffer ${id} of the table is not on the device`);
      return buffer;
    });
    return this.#tables.add(table, this.context);
  }

  /** The table as loaded: its columns' chunks and their buffers. */
  loaded(tableId: number): LoadedTable {
    return this.#tables.loaded(tableId);
  }

  async readColumn(tableId: number, name: string): Promise<ColumnBytes> {
    return this.#tables.readColumn(tableId, name);
  }

  async readValidity(tableId: number, name: string): Promise<ArrayBuffer | null> {
    return this.#tables.readValidity(tableId, name);
  }

  async dictionary(tableId: number, name: string): Promise<DictionaryValue[]> {
    return this.#tables.dictionary(tableId, name);
  }

  async wgsl(tableId: number, names?: string[], options?: WgslOptions): Promise<TableWgsl> {
    return this.#tables.wgsl(tableId, names, options);
  }

  async describe(tableId: number, name: string, options?: WorkerQueryOptions): Promise<ColumnSummary> {
    return this.#tables.describe(tableId, name, options);
  }

  async filter(tableId: number, predicate: Predicate): Promise<FilterSnapshot> {
    return this.#tables.filter(tableId, predicate);
  }

  async destroyFilter(tableId: number, filterId: number): Promise<void> {
    this.#tables.destroyFilter(tableId, filterId);
  }

  async histogram(
    tableId: number,
    name: string,
    options?: HistogramOptions,
    query?: WorkerQueryOptions,
  ): Promise<Histogram> {
    return this.#tables.histogram(tableId, name, options, query);
  }

  async crossfilter(tableId: number, options: CrossfilterOptions): Promise<CrossfilterResult> {
    return this.#tables.crossfilter(tableId, options);
  }

  async readRows(
    tableId: number,
    options: ReadRowsOptions,
    query: WorkerQueryOptions = {},
  ): Promise<ArrayBuffer> {
    const { filterId } = query;
    const mask = filterId === undefined ? undefined : await this.#tables.mask(tableId, filterId);
    return this.#tables.readRows(tableId, options, mask);
  }

  async destroyTable(tableId: number): Promise<void> {
    this.#tables.destroy(tableId);
  }

  /** Buffers this loader holds on the caller's device (tables, query scratch). */
  memory(): MemoryInfo {
    const { tracker } = this.context;
    return {
      liveBuffers: tracker.count,
      liveBytes: tracker.bytes,
      stagingInFlight: 0,
      maxStagingInFlight: 0,
    };
  }

  /** Destroys every table and buffer made on the caller's device; the device itself stays. */
  close(): void {
    this.#tables.destroyAll();
    this.writer.destroyAll();
    this.context.destroy();
  }
}
