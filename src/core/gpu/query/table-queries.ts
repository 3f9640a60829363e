import type { ColumnSummary } from '../../../types.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import { ColumnQueries } from './column-queries.js';
import { MaskKernels } from './mask-kernels.js';
import { QueryGpu } from './query-gpu.js';

/** A row mask made by `filter`: one bit a row (validity's layout) and the rows it keeps. */
export interface RowMask {
  buffer: GPUBuffer;
  count: number;
}

/**
 * The GPU queries of one loaded table: per-column kernels, the mask kernels and the all-rows mask, made
 * on first use and destroyed with the table.
 */
export class TableQueries {
  readonly gpu: QueryGpu;
  readonly numRows: number;
  readonly #columns: readonly UploadedColumn[];
  readonly #queries = new Map<string, ColumnQueries>();
  #masks: Promise<MaskKernels> | null = null;
  #allRows: Promise<GPUBuffer> | null = null;

  constructor(
    device: GPUDevice,
    tracker: BufferTracker,
    numRows: number,
    columns: readonly UploadedColumn[],
  ) {
    this.gpu = new QueryGpu(device, tracker);
    this.numRows = numRows;
    this.#columns = columns;
  }

  /** Summary statistics of column `column` over the rows `filter` keeps (every row without one). */
  async describe(column: UploadedColumn, filter: RowMask | null): Promise<ColumnSummary> {
    const queries = this.column(column, 'describe');
    return queries.describe(filter?.buffer ?? (await this.allRows()));
  }

  /** The queries of `column` (`INVALID_ARGUMENT` when its encoding cannot be queried, naming `what`). */
  column(column: UploadedColumn, what: string): ColumnQueries {
    let queries = this.#queries.get(column.plan.name);
    if (!queries) {
      queries = new ColumnQueries(this.gpu, column, what);
      this.#queries.set(column.plan.name, queries);
    }
    return queries;
  }

  /** The mask kernels of this table. */
  masks(): Promise<MaskKernels> {
    this.#masks ??= MaskKernels.create(this.gpu, this.numRows);
    return this.#masks;
  }

  /** The mask of every row, made once. */
  allRows(): Promise<GPUBuffer> {
    this.#allRows ??= this.masks().then((m) => m.combine('ones', null, null));
    return this.#allRows;
  }

  /** The table's columns, for predicates naming them. */
  get columns(): readonly UploadedColumn[] {
    return this.#columns;
  }

  /** Destroys every buffer queries made on this table (masks included). */
  destroy(): void {
    this.gpu.destroy();
  }
}
