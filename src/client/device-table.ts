import type { BufferChunk, UploadedColumn } from '../core/gpu/upload/table-uploader.js';
import type { TableCalls, TableSnapshot } from '../protocol.js';
import type { ColumnBuffer, DeviceColumnInfo } from '../types.js';
import { GpuTable } from './gpu-table.js';
import type { WorkerGuard } from './worker-guard.js';

/**
 * A table loaded onto the caller's own device (`createLoader({ device })`): a `GpuTable` whose columns
 * also hold their `GPUBuffer`s, to bind in the caller's pipelines. Its queries and reads run on the
 * caller's thread, on that device.
 */
export class DeviceTable extends GpuTable {
  readonly #columns: readonly DeviceColumnInfo[];

  /** @internal Made by a loader given a device, from the table as the caller's thread holds it. */
  constructor(
    snapshot: TableSnapshot,
    calls: TableCalls,
    guard: WorkerGuard,
    columns: readonly UploadedColumn[],
  ) {
    super(snapshot, calls, guard);
    this.#columns = snapshot.columns.map((info, i) => {
      const column = columns[i] as UploadedColumn;
      return {
        ...info,
        buffers: {
          values: buffersOf(column.values),
          validity: column.validity && buffersOf(column.validity),
        },
      };
    });
  }

  /** Uploaded columns, in the order requested, each with the buffers that hold its rows. */
  override get columns(): readonly DeviceColumnInfo[] {
    return this.#columns;
  }
}

function buffersOf(chunks: readonly BufferChunk[]): ColumnBuffer[] {
  return chunks.map(({ buffer, rowOffset, rows, byteLength }) => ({ buffer, rowOffset, rows, byteLength }));
}
