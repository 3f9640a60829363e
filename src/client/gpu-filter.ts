import { ArgumentError } from '../core/errors.js';
import { show } from '../core/gpu/query/predicate-check.js';
import type { FilterSnapshot, TableCalls, WorkerQueryOptions } from '../protocol.js';
import type { GpuTable } from './gpu-table.js';
import type { CallRunner } from './worker-guard.js';

/** Options of a query on a table: `filter` limits it to the rows a filter of that table keeps. */
export interface QueryOptions {
  filter?: GpuFilter;
}

/**
 * The rows of a table a predicate keeps, as a row mask on the GPU in the worker (one bit a row). Pass it
 * as `{ filter }` to the table's queries; `destroy()` frees the mask (the table's destroy does too).
 */
export class GpuFilter {
  /** The table it was made on (and only applies to). */
  readonly table: GpuTable;
  /** Rows the predicate keeps. */
  readonly count: number;
  /** Rows of the table. */
  readonly rows: number;
  /** @internal The filter's id in the worker. */
  readonly filterId: number;
  /** @internal The id of its table in the worker. */
  readonly tableId: number;
  readonly #remote: TableCalls;
  readonly #guard: CallRunner;

  /** @internal Made by `GpuTable.filter`. */
  constructor(snapshot: FilterSnapshot, table: GpuTable, remote: TableCalls, guard: CallRunner) {
    this.table = table;
    this.count = snapshot.count;
    this.rows = snapshot.rows;
    this.filterId = snapshot.filterId;
    this.tableId = snapshot.tableId;
    this.#remote = remote;
    this.#guard = guard;
  }

  /** Frees the filter's GPU mask; queries given it afterwards fail with `INVALID_ARGUMENT`. */
  async destroy(): Promise<void> {
    await this.#guard.run(() => this.#remote.destroyFilter(this.tableId, this.filterId));
  }
}

/**
 * @internal The worker's form of a query's options on `table`: `INVALID_ARGUMENT` for options that are
 * not an object, or a `filter` that is not a `GpuFilter` of this very table.
 */
export function workerQueryOptions(table: GpuTable, options: QueryOptions | undefined): WorkerQueryOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError(`Query options must be an object such as { filter }, not ${show(options)}`, {
      option: 'options',
    });
  }
  const { filter } = options;
  if (filter === undefined) return {};
  if (!(filter instanceof GpuFilter)) {
    throw new ArgumentError(
      `filter must be a GpuFilter made by table.filter(predicate), not ${show(filter)}`,
      {
        option: 'filter',
      },
    );
  }
  if (filter.table !== table) {
    throw new ArgumentError(
      `filter ${filter.filterId} was made on another table: a filter only applies to the table it was made on`,
      { option: 'filter' },
    );
  }
  return { filterId: filter.filterId };
}
