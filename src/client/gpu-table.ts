import type { Table } from 'apache-arrow';
import type * as Comlink from 'comlink';
import type { LoaderWorkerApi, TableSnapshot } from '../protocol.js';
import type {
  ColumnInfo,
  ColumnSummary,
  DictionaryValue,
  GpuType,
  LoadStats,
  ReadRowsOptions,
  SkippedColumn,
  TableWgsl,
  WgslOptions,
} from '../types.js';
import type { WorkerGuard } from './worker-guard.js';

/** Typed array matching a column's `gpuType`. */
export type ColumnArray = Float32Array | Int32Array | Uint32Array;

const ARRAYS: Record<GpuType, new (buffer: ArrayBuffer) => ColumnArray> = {
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
};

/** A table loaded onto the GPU in the worker; its metadata is plain data, its bytes stay on the GPU. */
export class GpuTable {
  /** Rows loaded. */
  readonly numRows: number;
  /** Uploaded columns, in the order requested. */
  readonly columns: readonly ColumnInfo[];
  /** Columns left out by `unsupported: 'skip'`, with their type and why. */
  readonly skipped: readonly SkippedColumn[];
  /** Measurements of the load that made this table. */
  readonly stats: LoadStats;
  readonly #id: number;
  readonly #remote: Comlink.Remote<LoaderWorkerApi>;
  readonly #guard: WorkerGuard;

  /** @internal Made by `Loader.load`. */
  constructor(snapshot: TableSnapshot, remote: Comlink.Remote<LoaderWorkerApi>, guard: WorkerGuard) {
    this.numRows = snapshot.numRows;
    this.columns = snapshot.columns;
    this.skipped = snapshot.skipped;
    this.stats = snapshot.stats;
    this.#id = snapshot.tableId;
    this.#remote = remote;
    this.#guard = guard;
  }

  /**
   * Reads a column's words back from its GPU buffer (`rows × components` of them, in the array type of
   * its `gpuType`).
   */
  async readColumn(name: string): Promise<ColumnArray> {
    const { gpuType, buffer } = await this.#guard.run(() => this.#remote.readColumn(this.#id, name));
    return new ARRAYS[gpuType](buffer);
  }

  /** Reads a column's validity bitmap (bit i of word i>>5 set = row i valid), or `null` if it has no nulls. */
  async readValidity(name: string): Promise<Uint32Array | null> {
    const buffer = await this.#guard.run(() => this.#remote.readValidity(this.#id, name));
    return buffer ? new Uint32Array(buffer) : null;
  }

  /**
   * The values of a `dictionary` column, in code order: strings for text, `Uint8Array`s for binary,
   * numbers or bigints otherwise.
   */
  async dictionary(name: string): Promise<DictionaryValue[]> {
    return this.#guard.run(() => this.#remote.dictionary(this.#id, name));
  }

  /**
   * WGSL that declares the named columns' buffers (all columns by default; a struct's name selects its
   * children) and functions that read them by row, chunks included, with the bindings to make. The
   * buffers live on the worker's device: the code is for shaders that run there.
   */
  async wgsl(names?: readonly string[], options?: WgslOptions): Promise<TableWgsl> {
    // Checked in the worker, which refuses anything but an array of names with INVALID_ARGUMENT.
    return this.#guard.run(() => this.#remote.wgsl(this.#id, names as string[] | undefined, options));
  }

  /**
   * Count, nulls, NaNs, minimum, maximum, sum and mean of a column, computed on the GPU in the worker.
   * See `ColumnSummary` for the types of each.
   */
  async describe(name: string): Promise<ColumnSummary> {
    return this.#guard.run(() => this.#remote.describe(this.#id, name));
  }

  /**
   * Rows of the table as an apache-arrow `Table`, rebuilt in the worker from what the GPU holds: `limit`
   * rows from `offset`, of the named columns (default all; structs flattened into `parent.child`), in
   * row order, each in its source Arrow type with its nulls. Exact encodings give the source values;
   * lossy ones (`f32` of a Float64, `f32x2`, `f32-relative`) the GPU's value in the source type.
   * apache-arrow is loaded on the first call, so that pages that never read rows never load it.
   */
  async readRows(options: ReadRowsOptions): Promise<Table> {
    // Only plain data crosses: the worker checks each option and names the one it refuses.
    const request = typeof options === 'object' && options !== null ? { ...options } : options;
    const [buffer, arrow] = await Promise.all([
      this.#guard.run(() => this.#remote.readRows(this.#id, request)),
      import('apache-arrow'),
    ]);
    return arrow.tableFromIPC(new Uint8Array(buffer));
  }

  /** Frees the table's GPU buffers. */
  async destroy(): Promise<void> {
    await this.#guard.run(() => this.#remote.destroyTable(this.#id));
  }
}
