import type { ColumnBytes, TableSnapshot } from '../../protocol.js';
import type { ColumnSummary, ReadRowsOptions } from '../../types.js';
import { columnBytes } from '../columns/column-bytes.js';
import { DictionaryEncoder, type DictionaryValue } from '../columns/encoders/dictionary-encoder.js';
import { type TableWgsl, tableWgsl, type WgslOptions } from '../columns/wgsl/table-wgsl.js';
import { ColumnError } from '../errors.js';
import type { GpuContext } from '../gpu/device-context.js';
import { TableQueries } from '../gpu/query/table-queries.js';
import { readBack } from '../gpu/readback.js';
import type { BufferChunk, UploadedColumn } from '../gpu/upload/table-uploader.js';
import type { LoadedTable } from '../pipeline/load.js';
import { noSuchColumn, pickColumns } from './pick-columns.js';
import { type RowMask, readRowsIpc } from './read-rows.js';
import { checkReadRows } from './read-rows-options.js';

interface StoredTable {
  table: LoadedTable;
  context: GpuContext;
  /** Made on the first query of the table. */
  queries: TableQueries | null;
}

/** The tables loaded in the worker, by id, each with the device that holds its buffers. */
export class TableStore {
  readonly #tables = new Map<number, StoredTable>();
  #nextId = 1;

  /** Keeps `table` and returns its id and plain-data description. */
  add(table: LoadedTable, context: GpuContext): TableSnapshot {
    const tableId = this.#nextId++;
    this.#tables.set(tableId, { table, context, queries: null });
    return snapshot(tableId, table);
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

  /** Summary statistics of a column, computed on the GPU. */
  async describe(tableId: number, name: string): Promise<ColumnSummary> {
    const { context, column, queries } = this.#queryable(tableId, name);
    return this.#read(tableId, name, context, () => queries.describe(column));
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

  /** Destroys a table's buffers; a second call is a no-op. */
  destroy(tableId: number): void {
    const stored = this.#tables.get(tableId);
    if (!stored) return;
    this.#tables.delete(tableId);
    stored.queries?.destroy();
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
    if (this.#tables.has(tableId)) return;
    const what = name === null ? 'its rows were' : `${name} was`;
    throw new ColumnError(
      'NO_SUCH_COLUMN',
      `Table ${tableId} was destroyed while ${what} read`,
      name === null ? {} : { column: name },
    );
  }

  /** A column and its table's queries, made on first use. */
  #queryable(tableId: number, name: string): StoredTable & { column: UploadedColumn; queries: TableQueries } {
    const found = this.#column(tableId, name);
    const stored = this.#tables.get(tableId) as StoredTable;
    const { table, context } = stored;
    stored.queries ??= new TableQueries(context.device, context.tracker, table.numRows, table.columns);
    return { ...found, queries: stored.queries };
  }

  /** A live table; `NO_SUCH_COLUMN` (naming `name`) once destroyed, `DEVICE_LOST` once its device went. */
  #table(tableId: number, name?: string): StoredTable {
    const stored = this.#tables.get(tableId);
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
 * True when `context`'s device is lost, or turns out lost within a task: GPU calls start failing as
 * the device goes, a moment before its `lost` promise settles.
 */
export async function lostDuring(context: GpuContext): Promise<boolean> {
  if (context.lostReason !== null) return true;
  const nextTask = new Promise<false>((resolve) => setTimeout(resolve, 0, false));
  return Promise.race([context.device.lost.then(() => true), nextTask]);
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
    columns: table.columns.map((c) => ({
      name: c.plan.name,
      arrowType: c.plan.arrowType,
      encoding: c.plan.encoding,
      components: c.plan.components,
      gpuType: c.plan.wordType,
      byteLength: columnBytes(c.plan, table.numRows),
      chunks: c.values.map(({ rowOffset, rows, byteLength }) => ({ rowOffset, rows, byteLength })),
      nullCount: c.nullCount,
      ...(c.plan.scale !== undefined ? { scale: c.plan.scale } : {}),
      ...c.extras,
    })),
    skipped: table.skipped,
    stats: table.stats,
  };
}
