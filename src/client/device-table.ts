import type { BufferChunk, UploadedColumn } from '../core/gpu/upload/table-uploader.js';
import type { TableCalls, TableSnapshot } from '../protocol.js';
import type { ColumnBuffer, ColumnInfo, DeviceColumnInfo } from '../types.js';
import { GpuTable } from './gpu-table.js';
import type { CallRunner } from './worker-guard.js';

/**
 * A table loaded onto the caller's own device (`createLoader({ device })`): a `GpuTable` whose columns
 * also hold their `GPUBuffer`s, to bind in the caller's pipelines. Its queries and reads run on the
 * caller's thread, on that device.
 */
export class DeviceTable extends GpuTable {
  readonly #uploaded: () => readonly UploadedColumn[] | null;
  #seen: {
    infos: readonly ColumnInfo[];
    uploaded: readonly UploadedColumn[] | null;
    columns: readonly DeviceColumnInfo[];
  } | null = null;

  /**
   * @internal Made by a loader given a device; `runner` runs its calls on this thread, `uploaded()`
   * gives the columns as it holds them now (`null` once the table is unusable), `live` the updates of a
   * table from `open`.
   */
  constructor(
    snapshot: TableSnapshot,
    calls: TableCalls,
    runner: CallRunner,
    uploaded: () => readonly UploadedColumn[] | null,
    live?: ConstructorParameters<typeof GpuTable>[3],
  ) {
    super(snapshot, calls, runner, live);
    this.#uploaded = uploaded;
  }

  /**
   * Uploaded columns, in the order requested, each with the buffers that hold its rows (none once the
   * table is destroyed or its load failed). A table from `open` gains chunks as rows land; a buffer,
   * once handed out, is never replaced.
   */
  override get columns(): readonly DeviceColumnInfo[] {
    const infos = super.columns;
    const uploaded = this.#uploaded();
    if (this.#seen?.infos === infos && this.#seen.uploaded === uploaded) return this.#seen.columns;
    const columns = infos.map((info, i) => {
      const column = uploaded?.[i];
      return {
        ...info,
        buffers: {
          values: column ? buffersOf(column.values) : [],
          validity: column?.validity ? buffersOf(column.validity) : null,
        },
      };
    });
    this.#seen = { infos, uploaded, columns };
    return columns;
  }
}

function buffersOf(chunks: readonly BufferChunk[]): ColumnBuffer[] {
  return chunks.map(({ buffer, rowOffset, rows, byteLength }) => ({ buffer, rowOffset, rows, byteLength }));
}
