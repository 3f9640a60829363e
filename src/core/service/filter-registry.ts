import { ArgumentError } from '../errors.js';
import type { TableQueries } from '../gpu/query/table-queries.js';

interface StoredFilter {
  tableId: number;
  mask: GPUBuffer;
  queries: TableQueries;
}

/** The filters made in the worker, by id, each bound to the table it was made on. */
export class FilterRegistry {
  readonly #filters = new Map<number, StoredFilter>();
  /** Why a filter id no longer works: it was destroyed, or its table was. */
  readonly #gone = new Map<number, string>();
  #nextId = 1;

  /** Keeps the mask of a new filter on `tableId` (a buffer of `queries`); returns its id. */
  add(tableId: number, mask: GPUBuffer, queries: TableQueries): number {
    const id = this.#nextId++;
    this.#filters.set(id, { tableId, mask, queries });
    return id;
  }

  /** The mask of filter `filterId` for a query on `tableId`; `INVALID_ARGUMENT` when it cannot serve. */
  mask(tableId: number, filterId: number): GPUBuffer {
    const filter = this.#filters.get(filterId);
    if (!filter) {
      const why = this.#gone.get(filterId) ?? 'is unknown';
      throw new ArgumentError(`Filter ${filterId} ${why}: make a new one with table.filter(predicate)`, {
        option: 'filter',
      });
    }
    if (filter.tableId !== tableId) {
      throw new ArgumentError(
        `Filter ${filterId} was made on table ${filter.tableId}, not on table ${tableId}: a filter only applies to the table it was made on`,
        { option: 'filter' },
      );
    }
    return filter.mask;
  }

  /** Frees a filter's mask; a second call, or one after its table was destroyed, is a no-op. */
  destroy(tableId: number, filterId: number): void {
    const filter = this.#filters.get(filterId);
    if (!filter) return;
    this.mask(tableId, filterId); // refuses another table's filter
    this.#filters.delete(filterId);
    this.#gone.set(filterId, 'was destroyed');
    filter.queries.gpu.release(filter.mask);
  }

  /** Forgets the filters of a destroyed table (its queries destroy their buffers). */
  dropTable(tableId: number): void {
    for (const [id, filter] of this.#filters) {
      if (filter.tableId !== tableId) continue;
      this.#filters.delete(id);
      this.#gone.set(id, `belongs to table ${tableId}, which was destroyed`);
    }
  }
}
