import type { Field } from 'apache-arrow';
import type { TableSnapshot } from '../../protocol.js';
import type { MemoryInfo } from '../../types.js';
import type { ArrowGpuError } from '../errors.js';
import { GpuContext } from '../gpu/device-context.js';
import { DeviceWriter, type DeviceWriterOptions } from '../gpu/remote/device-writer.js';
import { REMOTE_CHUNK_BYTES } from '../gpu/remote/remote-transport.js';
import type { LoadedTable } from '../pipeline/load.js';
import { columnsOnDevice, fieldsOf, type RemoteColumn, type RemoteTableSpec } from './remote-table.js';
import { TableStore } from './table-store.js';

/**
 * The tables a worker loaded onto the caller's own device, kept on the caller's thread: the writer that
 * makes and fills their buffers, and the queries and reads on them, run on that device as the worker
 * runs them on its own.
 */
export class CallerTables {
  readonly context: GpuContext;
  readonly writer: DeviceWriter;
  /** The tables, queried and read as the worker's store is (the table calls go straight to it). */
  readonly store = new TableStore();
  /** Each table's schema fields, for the columns of its updates. */
  readonly #fields = new Map<number, Field[]>();

  /** `writer`: how the writer writes (the device's staging ring is always its own). */
  constructor(device: GPUDevice, maxBufferBytes?: number, writer: Omit<DeviceWriterOptions, 'ring'> = {}) {
    this.context = GpuContext.adopt(
      device,
      (lost) => {
        this.writer.lose(lost.lostReason ?? 'unknown reason');
        lost.tracker.destroyAll();
      },
      maxBufferBytes,
      // The worker's chunks are staged one a buffer: buffers their size hold half the memory of the
      // default's, and each submit moves no more than that through the browser (see `minSlotBytes`).
      REMOTE_CHUNK_BYTES,
    );
    this.writer = new DeviceWriter(device, this.context.tracker, { ring: this.context.ring, ...writer });
  }

  /** Keeps the table of `spec`, whose buffers the writer made; its id here and its description. */
  add(spec: RemoteTableSpec): TableSnapshot {
    const fields = fieldsOf(spec);
    const columns = columnsOnDevice(spec.columns, fields, this.#bufferOf);
    const { numRows, skipped, stats } = spec;
    const snapshot = this.store.add({ numRows, columns, skipped, stats }, this.context);
    this.#fields.set(snapshot.tableId, fields);
    return snapshot;
  }

  /** A loading table has `numRows` rows now, in `columns` (chunks may have been added). */
  update(tableId: number, numRows: number, columns: readonly RemoteColumn[]): void {
    const table = this.store.loaded(tableId);
    const fields = this.#fields.get(tableId) ?? [];
    Object.assign(table, { numRows, columns: columnsOnDevice(columns, fields, this.#bufferOf) });
  }

  /** The table's load failed: its buffers go (the worker destroys them too) and its uses say why. */
  fail(tableId: number, error: ArrowGpuError): void {
    this.store.fail(tableId, error);
  }

  /**
   * The worker that loads onto this device is gone (`error`): the tables of `filling` (still loading)
   * fail and their buffers go, as do those of loads that had no table here yet; the writer makes and
   * writes nothing more. Tables that finished loading stay, buffers and all: they need no worker.
   */
  workerDied(error: ArrowGpuError, filling: Iterable<number>): void {
    for (const id of filling) this.fail(id, error);
    const kept = new Set<GPUBuffer>();
    for (const id of this.#fields.keys()) {
      if (!this.has(id)) continue;
      for (const column of this.loaded(id).columns) {
        for (const chunk of [...column.values, ...(column.validity ?? [])]) kept.add(chunk.buffer);
      }
    }
    this.writer.abandon(error.message, (buffer) => kept.has(buffer));
  }

  readonly #bufferOf = (id: number): GPUBuffer => {
    const buffer = this.writer.buffer(id);
    if (!buffer) throw new Error(`buffer ${id} of the table is not on the device`);
    return buffer;
  };

  /** Whether table `tableId` is here and usable (not destroyed, its load not failed). */
  has(tableId: number): boolean {
    return this.store.has(tableId);
  }

  /** The table as loaded: its columns' chunks and their buffers. */
  loaded(tableId: number): LoadedTable {
    return this.store.loaded(tableId);
  }

  /** Destroys a table's buffers; a second call is a no-op. */
  destroyTable(tableId: number): void {
    this.#fields.delete(tableId);
    this.store.destroy(tableId);
  }

  /** Buffers this loader holds on the caller's device (tables, query scratch). */
  memory(): MemoryInfo {
    const { tracker } = this.context;
    return {
      liveBuffers: tracker.count,
      liveBytes: tracker.bytes,
      stagingInFlight: this.context.ring.inFlight,
      maxStagingInFlight: this.context.ring.maxInFlight,
    };
  }

  /** Releases the staging buffers on the caller's device now (they go by themselves once idle). */
  trim(): Promise<void> {
    return this.writer.trimStaging();
  }

  /** Destroys every table and buffer made on the caller's device; the device itself stays. */
  close(): void {
    this.store.destroyAll();
    this.writer.destroyAll();
    this.context.destroy();
  }
}
