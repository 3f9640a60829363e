import type { GpuContext } from '../gpu/device-context.js';
import { TableQueries } from '../gpu/query/table-queries.js';
import type { LoadedTable } from '../pipeline/load.js';

/** One set of queries, made for the table's rows at one moment, and the queries running on it. */
interface Generation {
  queries: TableQueries;
  rows: number;
  running: number;
  retired: boolean;
}

/** Queries made for the table as it is now, and a release to call once the query has ended. */
export interface QueryLease {
  queries: TableQueries;
  release(): void;
}

/**
 * The queries of a table whose rows may still grow (a table being loaded): their chunk bindings, row
 * counts, masks and scratch are made for the rows the table had when they were made, so when the table
 * has more, the next query gets a new set, and the old one is destroyed once its last query has ended.
 * Compiled kernels pass from one set to the next. A loaded table keeps its one set.
 */
export class GrowingQueries {
  #current: Generation | null = null;

  /** The queries for `table` as it is now; call `release()` once the query has ended. */
  acquire(table: LoadedTable, context: GpuContext): QueryLease {
    let generation = this.#current;
    if (!generation || generation.rows !== table.numRows) {
      if (generation) this.#retire(generation);
      const previous = generation?.queries;
      const queries = new TableQueries(
        context.device,
        context.tracker,
        table.numRows,
        table.columns,
        previous,
      );
      generation = { queries, rows: table.numRows, running: 0, retired: false };
      this.#current = generation;
    }
    const leased = generation;
    leased.running++;
    let released = false;
    return {
      queries: leased.queries,
      release: () => {
        if (released) return;
        released = true;
        leased.running--;
        if (leased.retired && leased.running === 0) leased.queries.destroy();
      },
    };
  }

  /** Destroys every set (the table is going): those with queries running too, which then fail. */
  destroy(): void {
    if (this.#current) this.#current.queries.destroy();
    this.#current = null;
  }

  #retire(generation: Generation): void {
    generation.retired = true;
    if (generation.running === 0) generation.queries.destroy();
  }
}
