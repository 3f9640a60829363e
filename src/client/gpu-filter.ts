import { ArgumentError } from '../core/errors.js';

/** Options every query takes. */
export interface QueryOptions {
  /** Only the rows this filter keeps (made by `table.filter` on the same table). */
  filter?: GpuFilter;
}

/** A row mask on the GPU, made by `table.filter(predicate)`: the rows it keeps, for later queries. */
export class GpuFilter {
  /** Rows the predicate keeps. */
  readonly count: number;
  /** @internal The worker's id of the mask. */
  readonly filterId: number;
  readonly #destroy: () => Promise<void>;

  /** @internal Made by `GpuTable.filter`. */
  constructor(filterId: number, count: number, destroy: () => Promise<void>) {
    this.filterId = filterId;
    this.count = count;
    this.#destroy = destroy;
  }

  /** Frees the mask on the GPU; queries given this filter afterwards fail with `INVALID_ARGUMENT`. */
  destroy(): Promise<void> {
    return this.#destroy();
  }
}

/** The worker id of a query's filter; `INVALID_ARGUMENT` for anything but a `GpuFilter`. */
export function filterIdOf(filter: GpuFilter | undefined): number | undefined {
  if (filter === undefined) return undefined;
  if (!(filter instanceof GpuFilter)) {
    throw new ArgumentError('options.filter must be a filter made by table.filter(predicate)', {
      option: 'filter',
    });
  }
  return filter.filterId;
}
