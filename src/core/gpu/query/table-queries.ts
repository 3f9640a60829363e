import type { ColumnSummary, CrossfilterResult, Histogram } from '../../../types.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import { checkBinSpec, MAX_HISTOGRAM_BINS } from './bin-options.js';
import { type BoundChunk, bindChunks } from './chunk-bindings.js';
import { ColumnQueries } from './column-queries.js';
import { Crossfilter, type CrossfilterDim, crossfilterKey } from './crossfilter.js';
import { type CrossfilterRequest, MAX_CROSSFILTER_BINS } from './crossfilter-options.js';
import { type BuiltMask, buildMask, type MaskColumn } from './mask-builder.js';
import { MaskKernels } from './mask-kernels.js';
import type { MaskPlan } from './mask-plan.js';
import { queryable } from './query-column.js';
import { QueryGpu, scratchUsage } from './query-gpu.js';
import { serialiser } from './submit.js';

/**
 * The GPU queries of one loaded table: per-column kernels, the mask kernels and the all-rows mask (one
 * bit a row, as validity; the kernels read a row mask so that filters can take its place), made on
 * first use and destroyed with the table, filters' masks included.
 */
export class TableQueries {
  readonly gpu: QueryGpu;
  readonly numRows: number;
  readonly #columns: readonly UploadedColumn[];
  readonly #queries = new Map<string, ColumnQueries>();
  /** Chunks of columns queries cannot read, bound for their validity tests. */
  readonly #bound = new Map<string, Promise<BoundChunk[]>>();
  #masks: MaskKernels | null = null;
  #allRows: Promise<GPUBuffer> | null = null;
  /** The crossfilter of the last dimensions asked for; another set of dimensions replaces it. */
  #crossfilter: Crossfilter | null = null;
  readonly #crossfilterSerial = serialiser();

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

  /** Summary statistics of column `column` over the rows `mask` keeps (every row without one). */
  async describe(column: UploadedColumn, mask?: GPUBuffer): Promise<ColumnSummary> {
    const queries = this.column(column, 'describe');
    return queries.describe(mask ?? (await this.allRows()));
  }

  /**
   * The histogram of column `column` over the rows `mask` keeps (every row without one), with the bins
   * `options` ask for (checked here).
   */
  async histogram(column: UploadedColumn, options: unknown, mask?: GPUBuffer): Promise<Histogram> {
    const queries = this.column(column, 'histogram');
    const site = { call: 'histogram', prefix: '' };
    const spec = checkBinSpec(site, options, MAX_HISTOGRAM_BINS, dictionarySize(queries));
    return queries.histogram(mask ?? (await this.allRows()), site, spec);
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

  /** Mask words of this table: one a 32 rows, at least one. */
  get maskWords(): number {
    return Math.max(1, Math.ceil(this.numRows / 32));
  }

  /** The mask of every row, written once from the CPU (bits past the last row are 0). */
  allRows(): Promise<GPUBuffer> {
    const words = new Uint32Array(this.maskWords).fill(0xffffffff);
    const tail = this.numRows & 31;
    words[words.length - 1] = this.numRows === 0 ? 0 : tail === 0 ? 0xffffffff : (1 << tail) - 1;
    this.#allRows ??= this.gpu.words('all rows', words, scratchUsage());
    return this.#allRows;
  }

  /**
   * A new row mask of the rows `plan` keeps, and their count. Its buffer lives until `gpu.release`
   * (a filter's destroy) or the table's.
   */
  async buildMask(plan: MaskPlan): Promise<BuiltMask> {
    this.#masks ??= new MaskKernels(this.gpu);
    const table = {
      kernels: this.#masks,
      words: this.maskWords,
      allRows: await this.allRows(),
      column: (name: string) => this.#maskColumn(name),
    };
    return buildMask(table, plan, 'row mask');
  }

  async #maskColumn(name: string): Promise<MaskColumn> {
    const column = this.#columns.find((c) => c.plan.name === name);
    if (!column) throw new Error(`mask plan names column ${name}, which the table lacks`);
    const { encoding } = column.plan;
    if (queryable(encoding)) return { encoding, chunks: await this.column(column, 'filter').chunks() };
    let bound = this.#bound.get(name);
    if (!bound) {
      bound = bindChunks(this.gpu, column);
      this.#bound.set(name, bound);
    }
    return { encoding, chunks: await bound };
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
