import type { ColumnBytes, FilterSnapshot, TableSnapshot, WorkerQueryOptions } from '../../protocol.js';
import type {
  ColumnInfo,
  ColumnSummary,
  CrossfilterResult,
  Histogram,
  ReadRowsOptions,
} from '../../types.js';
import { columnBytes } from '../columns/column-bytes.js';
import { DictionaryEncoder, type DictionaryValue } from '../columns/encoders/dictionary-encoder.js';
import { type TableWgsl, tableWgsl, type WgslOptions } from '../columns/wgsl/table-wgsl.js';
import { type ArrowGpuError, ColumnError } from '../errors.js';
import type { GpuContext } from '../gpu/device-context.js';
import { checkCrossfilterOptions } from '../gpu/query/crossfilter-options.js';
import type { BuiltMask } from '../gpu/query/mask-builder.js';
import { planMask } from '../gpu/query/mask-plan.js';
import { planColumn } from '../gpu/query/plan-column.js';
import { checkPredicate } from '../gpu/query/predicate-check.js';
import type { TableQueries } from '../gpu/query/table-queries.js';
import { readBack } from '../gpu/readback.js';
import type { ViewSource } from '../gpu/render/view-source.js';
import type { BufferChunk, UploadedColumn } from '../gpu/upload/table-uploader.js';
import type { LoadedTable } from '../pipeline/load.js';
import { FilterRegistry } from './filter-registry.js';
import { GrowingQueries } from './growing-queries.js';
import { noSuchColumn, pickColumns } from './pick-columns.js';
import { type RowMask, readRowsIpc } from './read-rows.js';
import { checkReadRows } from './read-rows-options.js';

interface StoredTable {
  table: LoadedTable;
  context: GpuContext;
  /** Made on the first query of the table; remade when a table being loaded has more rows. */
  queries: GrowingQueries;
}

/** The tables loaded in the worker, by id, each with the device that holds its buffers. */
export class TableStore {
  readonly #tables = new Map<number, StoredTable>();
  readonly #filters = new FilterRegistry();
  /** Tables whose load failed after they were handed out, and why; kept until `destroy`. */
  readonly #failed = new Map<number, string>();
  #nextId = 1;

  /** Keeps `table` (loaded, or being loaded) and returns its id and plain-data description. */
  add(table: LoadedTable, context: GpuContext): TableSnapshot {
    const tableId = this.#nextId++;
    this.#tables.set(tableId, { table, context, queries: new GrowingQueries() });
    return snapshot(tableId, table);
  }

  /** A table's plain-data description as it is now. */
  snapshot(tableId: number): TableSnapshot {
    return snapshot(tableId, this.#table(tableId).table);
  }

  /** A live table as loaded (`NO_SUCH_COLUMN` once destroyed or failed). */
  loaded(tableId: number): LoadedTable {
    return this.#table(tableId).table;
  }

  /** The table's load failed (its buffers are gone): later uses fail with `NO_SUCH_COLUMN` saying why. */
  fail(tableId: number, error: ArrowGpuError): void {
    const stored = this.#tables.get(tableId);
    if (!stored) return;
    this.#tables.delete(tableId);
    this.#filters.dropTable(tableId);
    stored.queries.destroy();
    destroyTable(stored.table, stored.context);
    this.#failed.set(tableId, `its load failed with ${error.code}: ${error.message}`);
  }

  /** Cancels the load of a table still being loaded, and resolves once it has ended. */
  async stopLoading(tableId: number): Promise<void> {
    const live = this.#tables.get(tableId)?.table.live;
    if (live && !live.ended) await live.cancel();
  }

  /** Reads a column's values back from the GPU, its chunks stitched together. */
  async readColumn(tableId: number, name: string): Promise<ColumnBytes> {
    const { context, column } = this.#column(tableId, name);
    const buffer = await this.#read(tableId, name, context, () =>
      readChunks(context, column.values, `column ${JSON.stringify(name)}`),
    );
    return { gpuType: column.plan.wordType, buffer };
  }

  /** The table-wide dictionary of a `dictionary` column, in code order. */
  dictionary(tableId: number, name: string): DictionaryValue[] {
    const { column } = this.#column(tableId, name);
    if (!(column.encoder instanceof DictionaryEncoder)) {
      throw new ColumnError(
        'NO_SUCH_COLUMN',
        `Column ${JSON.stringify(name)} is ${column.plan.encoding}-encoded: it has no dictionary`,
        { column: name, arrowType: column.plan.arrowType },
      );
    }
    return column.encoder.values();
  }

  /** Reads a column's validity words back from the GPU; `null` when it has no nulls. */
  async readValidity(tableId: number, name: string): Promise<ArrayBuffer | null> {
    const { context, column } = this.#column(tableId, name);
    const validity = column.validity;
    if (!validity) return null;
    return this.#read(tableId, name, context, () => readChunks(context, validity, `validity of ${name}`));
  }

  /**
   * WGSL declarations and accessors for the named columns (all by default) and the chunk buffers they
   * bind; no GPU call. The table must still be alive: its buffers are what the bindings name.
   */
  wgsl(tableId: number, names?: readonly string[], options?: WgslOptions): TableWgsl {
    const { table } = this.#table(tableId);
    const columns = pickColumns(table.columns, names);
    return tableWgsl(
      columns.map(({ plan, values, validity }) => ({ plan, values, validity })),
      options,
    );
  }

  /** Summary statistics of a column over the rows of filter `options.filterId` (every row without), on the GPU. */
  async describe(tableId: number, name: string, options: WorkerQueryOptions = {}): Promise<ColumnSummary> {
    const { context, column, queries, release } = this.#queryable(tableId, name);
    try {
      return await this.#read(tableId, name, context, () =>
        this.#withMask(tableId, queries, options.filterId, (mask) => queries.describe(column, mask)),
      );
    } finally {
      release();
    }
  }

  /**
   * Makes the row mask of `predicate` on the GPU (see mask-plan.ts) over the rows the table has now, and
   * keeps it as a filter of the table until `destroyFilter` or the table's destroy. Misuse is
   * `INVALID_ARGUMENT` naming the path inside the predicate, or `NO_SUCH_COLUMN`.
   */
  async filter(tableId: number, predicate: unknown): Promise<FilterSnapshot> {
    const stored = this.#table(tableId);
    const { table, context } = stored;
    const encodingOf = (name: string) => table.columns.find((c) => c.plan.name === name)?.plan.encoding;
    const plan = planMask(checkPredicate(predicate, encodingOf), (name) => {
      const column = table.columns.find((c) => c.plan.name === name);
      if (!column) throw noSuchColumn(name, table.columns);
      return planColumn(column, table.numRows);
    });
    const { queries, release } = stored.queries.acquire(table, context);
    const gone = () =>
      new ColumnError('NO_SUCH_COLUMN', `Table ${tableId} was destroyed while a filter of it was made`, {});
    let mask: BuiltMask;
    try {
      mask = await whileAlive(context, () => queries.buildMask(plan));
    } catch (error) {
      // The GPU refused a buffer the table's destroy took meanwhile: say so.
      throw this.#tables.has(tableId) ? error : gone();
    } finally {
      release();
    }
    if (!this.#tables.has(tableId)) {
      queries.gpu.release(mask.buffer);
      throw gone();
    }
    const filterId = this.#filters.add(tableId, mask.buffer, queries);
    return { tableId, filterId, count: mask.count, rows: table.numRows };
  }

  /** Frees a filter's mask; a second call, or one after the table's destroy, is a no-op. */
  destroyFilter(tableId: number, filterId: number): void {
    this.#filters.destroy(tableId, filterId);
  }

  /**
   * The row mask a query on `tableId` reads: filter `filterId`'s, or every row's when absent (one bit a
   * row, as validity: bit i & 31 of word i >> 5, bits past the last row 0). `INVALID_ARGUMENT` for a
   * filter destroyed or of another table; `NO_SUCH_COLUMN` once the table is destroyed.
   */
  async mask(tableId: number, filterId?: number): Promise<GPUBuffer> {
    const { table, context, queries } = this.#table(tableId);
    if (filterId !== undefined) return this.#filters.mask(tableId, filterId);
    const lease = queries.acquire(table, context);
    try {
      return await lease.queries.allRows();
    } finally {
      lease.release();
    }
  }

  /** Whether table `tableId` is loaded (or loading) and not destroyed. */
  has(tableId: number): boolean {
    return this.#tables.has(tableId);
  }

  /**
   * What a render view reads of a table: its device, its rows and columns by name as they are when asked
   * (a table being loaded grows), and a column's extent from `describe` (`null` without a finite one).
   */
  viewSource(tableId: number): ViewSource {
    const { table, context } = this.#table(tableId);
    return {
      device: context.device,
      tracker: context.tracker,
      get numRows() {
        return table.numRows;
      },
      column: (name) => this.#column(tableId, name).column,
      pick: (names) => pickColumns(table.columns, names),
      checkDevice: () => {
        if (context.lostReason !== null) throw context.lostError();
      },
      extent: async (column) => {
        const { min, max } = await this.describe(tableId, column.plan.name);
        const extent: [number, number] = [Number(min), Number(max)];
        return min !== null && extent.every(Number.isFinite) ? extent : null;
      },
    };
  }

  /**
   * A column's histogram over the rows of filter `query.filterId` (every row without), computed on the
   * GPU (the options are checked in the worker).
   */
  async histogram(
    tableId: number,
    name: string,
    options?: unknown,
    query: WorkerQueryOptions = {},
  ): Promise<Histogram> {
    const { context, column, queries, release } = this.#queryable(tableId, name);
    try {
      return await this.#read(tableId, name, context, () =>
        this.#withMask(tableId, queries, query.filterId, (mask) => queries.histogram(column, options, mask)),
      );
    } finally {
      release();
    }
  }

  /** Linked histograms of several columns with brushes, computed on the GPU. */
  async crossfilter(tableId: number, options: unknown): Promise<CrossfilterResult> {
    const request = checkCrossfilterOptions(options);
    const columns = request.dims.map(({ name }) => this.#column(tableId, name).column);
    const first = request.dims[0]?.name as string;
    const { context, queries, release } = this.#queryable(tableId, first);
    const names = request.dims.map((d) => d.name).join(', ');
    try {
      return await this.#read(tableId, names, context, () => queries.crossfilter(request, columns));
    } finally {
      release();
    }
  }

  /**
   * Rows of the table as Arrow IPC stream bytes, rebuilt from the GPU in their schema types (see
   * `readRowsIpc`). With a `mask` (a filter's rows), `offset` and `limit` count the rows it keeps.
   */
  async readRows(tableId: number, options: ReadRowsOptions, mask?: RowMask): Promise<ArrayBuffer> {
    const request = checkReadRows(options);
    const { table, context } = this.#table(tableId);
    const bytes = await this.#read(tableId, null, context, () => readRowsIpc(context, table, request, mask));
    // Transferred whole to the main thread: the buffer must hold these bytes and nothing else.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return (whole ? bytes : bytes.slice()).buffer as ArrayBuffer;
  }

  /** Rows of the table as Arrow IPC, those of filter `query.filterId` when given (see `readRows`). */
  async readFilteredRows(
    tableId: number,
    options: ReadRowsOptions,
    { filterId }: WorkerQueryOptions = {},
  ): Promise<ArrayBuffer> {
    const mask = filterId === undefined ? undefined : await this.mask(tableId, filterId);
    return this.readRows(tableId, options, mask);
  }

  /** Destroys a table's buffers; a second call is a no-op. */
  destroy(tableId: number): void {
    this.#failed.delete(tableId);
    const stored = this.#tables.get(tableId);
    if (!stored) return;
    this.#tables.delete(tableId);
    this.#filters.dropTable(tableId);
    stored.queries.destroy();
    destroyTable(stored.table, stored.context);
  }

  /** Destroys every table. */
  destroyAll(): void {
    for (const id of [...this.#tables.keys()]) this.destroy(id);
  }

  /**
   * Reads from a table's buffers (column `name`'s, or rows of several when `null`); a destroy of the
   * table meanwhile fails the read with NO_SUCH_COLUMN.
   */
  async #read<T>(
    tableId: number,
    name: string | null,
    context: GpuContext,
    work: () => Promise<T>,
  ): Promise<T> {
    const buffer = await whileAlive(context, work).catch((error: unknown) => {
      this.#checkNotDestroyed(tableId, name); // the GPU refused a copy from the destroyed buffer
      throw error;
    });
    this.#checkNotDestroyed(tableId, name);
    return buffer;
  }

  /** A destroy that came while the copy was in flight leaves zeros behind: never hand those out. */
  #checkNotDestroyed(tableId: number, name: string | null): void {
    if (this.#tables.get(tableId)?.table.live?.failure) this.#table(tableId, name ?? undefined);
    if (this.#tables.has(tableId)) return;
    const what = name === null ? 'its rows were' : `${name} was`;
    throw new ColumnError(
      'NO_SUCH_COLUMN',
      `Table ${tableId} was destroyed while ${what} read`,
      name === null ? {} : { column: name },
    );
  }

  /**
   * Runs a query with the mask of `filterId` (every row's, from `queries`, without one); a failure once
   * the filter was destroyed meanwhile (the GPU refuses its buffer) is told as that.
   */
  async #withMask<T>(
    tableId: number,
    queries: TableQueries,
    filterId: number | undefined,
    work: (mask: GPUBuffer) => Promise<T>,
  ): Promise<T> {
    const mask = filterId === undefined ? await queries.allRows() : this.#filters.mask(tableId, filterId);
    try {
      return await work(mask);
    } catch (error) {
      if (filterId !== undefined && this.#tables.has(tableId)) this.#filters.mask(tableId, filterId);
      throw error;
    }
  }

  /**
   * A column and its table's queries as the table is now (made on first use); `release` once the query
   * has ended.
   */
  #queryable(
    tableId: number,
    name: string,
  ): { context: GpuContext; column: UploadedColumn; queries: TableQueries; release: () => void } {
    const { context, column, table, queries: growing } = this.#column(tableId, name);
    const { queries, release } = growing.acquire(table, context);
    return { context, column, queries, release };
  }

  /**
   * A live table; `NO_SUCH_COLUMN` (naming `name`) once destroyed or once its load failed, `DEVICE_LOST`
   * once its device went.
   */
  #table(tableId: number, name?: string): StoredTable {
    const stored = this.#tables.get(tableId);
    const failure = stored?.table.live?.failure;
    const failed = failure
      ? `its load failed with ${failure.code}: ${failure.message}`
      : this.#failed.get(tableId);
    if (failed !== undefined) {
      throw new ColumnError(
        'NO_SUCH_COLUMN',
        `Table ${tableId} is unusable: ${failed}`,
        name ? { column: name } : {},
      );
    }
    if (!stored) {
      throw new ColumnError('NO_SUCH_COLUMN', `Table ${tableId} was destroyed`, name ? { column: name } : {});
    }
    if (stored.context.lostReason !== null) throw stored.context.lostError();
    return stored;
  }

  #column(tableId: number, name: string): StoredTable & { column: UploadedColumn } {
    const stored = this.#table(tableId, name);
    const column = stored.table.columns.find((c) => c.plan.name === name);
    if (!column) throw noSuchColumn(name, stored.table.columns);
    return { ...stored, column };
  }
}

/** Destroys the buffers of a table made on `context`. */
export function destroyTable(table: LoadedTable, context: GpuContext): void {
  for (const column of table.columns) {
    for (const chunk of [...column.values, ...(column.validity ?? [])]) context.tracker.destroy(chunk.buffer);
  }
  context.tracker.releaseDestroyed();
}

/** The bytes of a column's chunks, one after the other. */
async function readChunks(
  context: GpuContext,
  chunks: readonly BufferChunk[],
  label: string,
): Promise<ArrayBuffer> {
  const only = chunks.length === 1 ? chunks[0] : undefined;
  // One chunk (the usual case): its read-back copy is the answer, with no second copy to stitch.
  if (only) return readBack(context.device, context.tracker, only.buffer, only.byteLength, label);
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const [i, chunk] of chunks.entries()) {
    const part = await readBack(
      context.device,
      context.tracker,
      chunk.buffer,
      chunk.byteLength,
      `${label} (chunk ${i})`,
    );
    out.set(new Uint8Array(part), at);
    at += chunk.byteLength;
  }
  return out.buffer;
}

/**
 * True when `context`'s device is lost, or turns out lost: GPU calls start failing as the device goes,
 * a moment before its `lost` promise settles. The GPU process tells of a loss before it answers work
 * submitted after it, so once that answer (and the next task) is in, a loss not yet told did not happen.
 * A task alone was not always enough in Chromium: a staging buffer's `getMappedRange` failed, and the
 * load was reported INTERNAL, in 4 of 80 runs of the lost-device browser test.
 */
export async function lostDuring(context: GpuContext): Promise<boolean> {
  if (context.lostReason !== null) return true;
  const answered = context.device.queue.onSubmittedWorkDone().catch(() => {});
  const nextTask = new Promise<void>((resolve) => setTimeout(resolve, 0));
  const told = Promise.all([answered, nextTask]).then(() => false);
  return Promise.race([context.device.lost.then(() => true), told]);
}

/** Runs GPU work on `context`; it fails with `DEVICE_LOST` when the device is lost before it ends. */
async function whileAlive<T>(context: GpuContext, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    if (await lostDuring(context)) throw context.lostError();
    throw error;
  }
  if (context.lostReason !== null) throw context.lostError();
  return result;
}

function snapshot(tableId: number, table: LoadedTable): TableSnapshot {
  return {
    tableId,
    numRows: table.numRows,
    columns: columnInfos(table.numRows, table.columns),
    skipped: table.skipped,
    stats: table.stats,
    ...(table.live ? { updates: table.live.updates } : {}),
  };
}

/** The plain-data description of a table's columns holding `numRows` rows. */
export function columnInfos(numRows: number, columns: readonly UploadedColumn[]): ColumnInfo[] {
  return columns.map((c) => ({
    name: c.plan.name,
    arrowType: c.plan.arrowType,
    encoding: c.plan.encoding,
    components: c.plan.components,
    gpuType: c.plan.wordType,
    byteLength: columnBytes(c.plan, numRows),
    chunks: c.values.map(({ rowOffset, rows, byteLength }) => ({ rowOffset, rows, byteLength })),
    nullCount: c.nullCount,
    ...(c.plan.scale !== undefined ? { scale: c.plan.scale } : {}),
    ...c.extras,
  }));
}
