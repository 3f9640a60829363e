import type { ColumnSummary } from '../../../types.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import { ColumnQueries } from './column-queries.js';
import { QueryGpu, scratchUsage } from './query-gpu.js';

/**
 * The GPU queries of one loaded table: per-column kernels and the all-rows mask (one bit a row, as
 * validity; the kernels read a row mask so that filters can take its place), made on first use and
 * destroyed with the table.
 */
export class TableQueries {
  readonly gpu: QueryGpu;
  readonly numRows: number;
  readonly #columns: readonly UploadedColumn[];
  readonly #queries = new Map<string, ColumnQueries>();
  #allRows: Promise<GPUBuffer> | null = null;

  /** `previous`: this table's queries before its rows grew (a table being loaded); its kernels are reused. */
  constructor(
    device: GPUDevice,
    tracker: BufferTracker,
    numRows: number,
    columns: readonly UploadedColumn[],
    previous?: TableQueries,
  ) {
    this.gpu = new QueryGpu(device, tracker, previous?.gpu);
    this.numRows = numRows;
    this.#columns = columns;
  }

  /** Summary statistics of column `column` over every row. */
  async describe(column: UploadedColumn): Promise<ColumnSummary> {
    const queries = this.column(column, 'describe');
    return queries.describe(await this.allRows());
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

  /** The mask of every row, written once from the CPU (bits past the last row are 0). */
  allRows(): Promise<GPUBuffer> {
    const words = new Uint32Array(Math.max(1, Math.ceil(this.numRows / 32))).fill(0xffffffff);
    const tail = this.numRows & 31;
    words[words.length - 1] = this.numRows === 0 ? 0 : tail === 0 ? 0xffffffff : (1 << tail) - 1;
    this.#allRows ??= this.gpu.words('all rows', words, scratchUsage());
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
