import type { ColumnSummary, CrossfilterResult, Histogram } from '../../../types.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import { checkBinSpec, MAX_HISTOGRAM_BINS } from './bin-options.js';
import { ColumnQueries } from './column-queries.js';
import { Crossfilter, type CrossfilterDim, crossfilterKey } from './crossfilter.js';
import { type CrossfilterRequest, MAX_CROSSFILTER_BINS } from './crossfilter-options.js';
import { QueryGpu, scratchUsage } from './query-gpu.js';
import { serialiser } from './submit.js';

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
  /** The crossfilter of the last dimensions asked for; another set of dimensions replaces it. */
  #crossfilter: Crossfilter | null = null;
  readonly #crossfilterSerial = serialiser();

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

  /** Summary statistics of column `column` over every row. */
  async describe(column: UploadedColumn): Promise<ColumnSummary> {
    const queries = this.column(column, 'describe');
    return queries.describe(await this.allRows());
  }

  /** The histogram of column `column` over every row, with the bins `options` ask for (checked here). */
  async histogram(column: UploadedColumn, options: unknown): Promise<Histogram> {
    const queries = this.column(column, 'histogram');
    const site = { call: 'histogram', prefix: '' };
    const spec = checkBinSpec(site, options, MAX_HISTOGRAM_BINS, dictionarySize(queries));
    return queries.histogram(await this.allRows(), site, spec);
  }

  /**
   * Linked histograms of `columns` (the request's dimensions, in order) over every row. The per-row state
   * of the last set of dimensions is kept, so that a brush update recomputes only what changed.
   */
  crossfilter(request: CrossfilterRequest, columns: readonly UploadedColumn[]): Promise<CrossfilterResult> {
    const dims: CrossfilterDim[] = request.dims.map(({ name, spec }, d) => {
      const queries = this.column(columns[d] as UploadedColumn, 'crossfilter');
      const site = { call: 'crossfilter', prefix: `dims.${name}.` };
      return { name, queries, spec: checkBinSpec(site, spec, MAX_CROSSFILTER_BINS, dictionarySize(queries)) };
    });
    return this.#crossfilterSerial(async () => {
      const key = crossfilterKey(dims);
      const allRows = await this.allRows();
      if (this.#crossfilter?.key !== key) {
        this.#crossfilter?.destroy();
        this.#crossfilter = null;
        this.#crossfilter = await Crossfilter.create(this.gpu, key, this.numRows, dims, allRows);
      }
      return this.#crossfilter.update(allRows, request.brush);
    });
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

  /** Destroys every buffer queries made on this table (masks and crossfilter state included). */
  destroy(): void {
    this.#crossfilter = null;
    this.gpu.destroy();
  }
}

function dictionarySize(queries: ColumnQueries): number | null {
  return queries.dictionary ? (queries.column.extras.dictionarySize ?? 0) : null;
}
