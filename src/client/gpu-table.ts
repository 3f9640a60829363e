import type { Table } from 'apache-arrow';
import { checkPredicate } from '../core/gpu/query/predicate-check.js';
import type { TableCalls, TableSnapshot, TableUpdateMessage } from '../protocol.js';
import type {
  ColumnInfo,
  ColumnSummary,
  CrossfilterOptions,
  CrossfilterResult,
  DictionaryValue,
  GpuType,
  Histogram,
  HistogramOptions,
  LoadStats,
  Predicate,
  ReadRowsOptions,
  SkippedColumn,
  TableWgsl,
  WgslOptions,
} from '../types.js';
import { GpuFilter, type QueryOptions, workerQueryOptions } from './gpu-filter.js';
import type { TableFeed } from './table-feed.js';
import type { CallRunner } from './worker-guard.js';

/** Typed array matching a column's `gpuType`. */
export type ColumnArray = Float32Array | Int32Array | Uint32Array;

const ARRAYS: Record<GpuType, new (buffer: ArrayBuffer) => ColumnArray> = {
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
};

/** The worker-side id of each table, and the worker that holds it. */
const HANDLES = new WeakMap<object, { tableId: number; remote: TableCalls }>();

/** @internal Where `table` lives: its id in the worker and that worker's proxy; `undefined` for anything else. */
export function tableHandle(table: unknown): { tableId: number; remote: TableCalls } | undefined {
  return typeof table === 'object' && table !== null ? HANDLES.get(table) : undefined;
}

/**
 * A table loaded onto the GPU in the worker; its metadata is plain data, its bytes stay on the GPU. A
 * table from `loader.open` fills as its load runs: `numRows`, `columns` and `stats` grow with each
 * batch that lands, reads and queries cover the rows landed so far, and `done` settles when it ends.
 */
export class GpuTable {
  /** Columns left out by `unsupported: 'skip'`, with their type and why. */
  readonly skipped: readonly SkippedColumn[];
  /**
   * Resolves to this table once every row is on the GPU (at once for a table from `load`); rejects
   * with the load's error (the table is then unusable: its reads fail with `NO_SUCH_COLUMN`).
   */
  readonly done: Promise<GpuTable>;
  #numRows: number;
  #columns: readonly ColumnInfo[];
  #stats: LoadStats;
  /** The updates from the worker that the state above includes. */
  #seq: number;
  readonly #id: number;
  readonly #remote: TableCalls;
  readonly #guard: CallRunner;

  /** @internal Made by `Loader.load`, or by `Loader.open` with the feed of its updates and its end. */
  constructor(
    snapshot: TableSnapshot,
    remote: TableCalls,
    guard: CallRunner,
    live?: { feed: Pick<TableFeed, 'follow' | 'ended'>; ended: Promise<TableSnapshot> },
  ) {
    this.#numRows = snapshot.numRows;
    this.#columns = snapshot.columns;
    this.skipped = snapshot.skipped;
    this.#stats = snapshot.stats;
    this.#seq = snapshot.updates ?? 0;
    this.#id = snapshot.tableId;
    this.#remote = remote;
    HANDLES.set(this, { tableId: snapshot.tableId, remote });
    this.#guard = guard;
    if (!live) {
      this.done = Promise.resolve(this);
      return;
    }
    live.feed.follow((update) => this.#update(update));
    this.done = live.feed.ended(live.ended).then((final) => {
      this.#numRows = final.numRows;
      this.#columns = final.columns;
      this.#stats = final.stats;
      this.#seq = Math.max(this.#seq, final.updates ?? 0);
      return this;
    });
    this.done.catch(() => {}); // a page that never awaits `done` sees no unhandled rejection
  }

  /** Rows on the GPU: all of them once `done` resolved; those landed so far while a table from `open` loads. */
  get numRows(): number {
    return this.#numRows;
  }

  /** Uploaded columns, in the order requested; their `chunks` and `byteLength` grow as rows land. */
  get columns(): readonly ColumnInfo[] {
    return this.#columns;
  }

  /** Measurements of the load that made this table; of a table from `open`, as they were when it opened until `done` resolves. */
  get stats(): LoadStats {
    return this.#stats;
  }

  /** Applies an update from the worker unless the table already includes it. */
  #update(update: TableUpdateMessage): void {
    if (update.seq <= this.#seq) return;
    this.#seq = update.seq;
    this.#numRows = update.numRows;
    this.#columns = update.columns;
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
   * Count, nulls, NaNs, minimum, maximum, sum and mean of a column, computed on the GPU in the worker,
   * over the rows `options.filter` keeps (every row without one). See `ColumnSummary` for the types of each.
   */
  async describe(name: string, options?: QueryOptions): Promise<ColumnSummary> {
    const wire = workerQueryOptions(this, options);
    return this.#guard.run(() => this.#remote.describe(this.#id, name, wire));
  }

  /**
   * The rows `predicate` keeps, as a row mask made on the GPU in the worker; pass the filter to queries
   * as `{ filter }`, and `destroy()` it when done. See `Predicate` and the README for the rules.
   */
  async filter(predicate: Predicate): Promise<GpuFilter> {
    // Checked here too, so that a malformed predicate (a function in it) fails typed, before cloning.
    const checked = checkPredicate(predicate, (name) => this.columns.find((c) => c.name === name)?.encoding);
    const snapshot = await this.#guard.run(() => this.#remote.filter(this.#id, checked));
    return new GpuFilter(snapshot, this, this.#remote, this.#guard);
  }

  /**
   * Counts of a column's rows in equal bins, computed on the GPU in the worker: `bins` (required for
   * numeric columns) from `min` to `max` (the column's finite extent where left out). A dictionary column
   * takes no options and gets one bin per dictionary value. See `Histogram` for what is counted where.
   */
  async histogram(name: string, options?: HistogramOptions & QueryOptions): Promise<Histogram> {
    const { filter, ...bins } = isOptionsObject(options) ? options : { filter: undefined };
    const query = workerQueryOptions(this, filter === undefined ? undefined : { filter });
    const binOptions = isOptionsObject(options) ? bins : options;
    return this.#guard.run(() => this.#remote.histogram(this.#id, name, binOptions, query));
  }

  /**
   * Histograms of several columns (`dims`), each over the rows that pass the brushes of all the other
   * dimensions. The worker keeps each row's bins for the last `dims` it was given, so that a call that
   * only moves brushes recomputes only the brushes that changed and one counting pass.
   */
  async crossfilter(options: CrossfilterOptions): Promise<CrossfilterResult> {
    return this.#guard.run(() => this.#remote.crossfilter(this.#id, options));
  }

  /**
   * Rows of the table as an apache-arrow `Table`, rebuilt in the worker from what the GPU holds: `limit`
   * rows from `offset`, of the named columns (default all; structs flattened into `parent.child`), in
   * row order, each in its source Arrow type with its nulls. Exact encodings give the source values;
   * lossy ones (`f32` of a Float64, `f32x2`, `f32-relative`) the GPU's value in the source type.
   * apache-arrow is loaded on the first call, so that pages that never read rows never load it. With
   * `filter`, `offset` and `limit` count the rows it keeps.
   */
  async readRows(options: ReadRowsOptions & QueryOptions): Promise<Table> {
    // Only plain data crosses: the worker checks each option and names the one it refuses.
    const { filter, ...rest } = isOptionsObject(options) ? options : { filter: undefined };
    const query = workerQueryOptions(this, filter === undefined ? undefined : { filter });
    const request = (isOptionsObject(options) ? rest : options) as ReadRowsOptions;
    const [buffer, arrow] = await Promise.all([
      this.#guard.run(() => this.#remote.readRows(this.#id, request, query)),
      import('apache-arrow'),
    ]);
    return arrow.tableFromIPC(new Uint8Array(buffer));
  }

  /** Frees the table's GPU buffers, and destroys its render views. */
  async destroy(): Promise<void> {
    await this.#guard.run(() => this.#remote.destroyTable(this.#id));
  }
}

/** Whether `options` is an object whose `filter` can be taken out (anything else is checked in the worker). */
function isOptionsObject(options: unknown): options is { filter?: GpuFilter } & Record<string, unknown> {
  return typeof options === 'object' && options !== null && !Array.isArray(options);
}
