import type { ColumnSummary, Histogram } from '../../../types.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import { type BinSpec, binRange, type OptionSite } from './bin-options.js';
import { type BinPlan, dictionaryPlan, EXTRA_SLOTS, numericPlan } from './bin-plan.js';
import { type BoundChunk, bindChunks } from './chunk-bindings.js';
import { ColumnPassKernel } from './column-pass-kernel.js';
import { localSlotsFor } from './column-pass-wgsl.js';
import { DescribeKernel } from './describe-kernel.js';
import { HistogramQuery } from './histogram-query.js';
import { type QueryColumn, queryColumn } from './query-column.js';
import type { QueryGpu } from './query-gpu.js';
import { serialiser } from './submit.js';
import { combinePartials, finiteExtent, summarize, type Totals } from './summary.js';

/**
 * The queries of one column: its chunks bound once, each kernel compiled on first use and kept with its
 * scratch buffers. Queries on the column run one at a time, since they share that scratch.
 */
export class ColumnQueries {
  readonly query: QueryColumn;
  readonly column: UploadedColumn;
  readonly gpu: QueryGpu;
  readonly serial = serialiser();
  #chunks: Promise<BoundChunk[]> | null = null;
  #describe: Promise<DescribeKernel> | null = null;
  /** Column pass kernels by their workgroup counters. */
  readonly #pass = new Map<number, Promise<ColumnPassKernel>>();
  #histogram: HistogramQuery | null = null;

  constructor(gpu: QueryGpu, column: UploadedColumn, what: string) {
    this.gpu = gpu;
    this.column = column;
    this.query = queryColumn(column, what);
  }

  /** Whether the column is dictionary codes (histogrammed one bin a value). */
  get dictionary(): boolean {
    return this.query.encoding === 'dictionary';
  }

  /** The column's chunks as group 0 binds them. */
  chunks(): Promise<BoundChunk[]> {
    this.#chunks ??= bindChunks(this.gpu, this.column);
    return this.#chunks;
  }

  /** The column pass kernel (histograms, bin codes, brushes) for histograms of `slots` counters. */
  passKernel(slots: number): Promise<ColumnPassKernel> {
    const local = localSlotsFor(this.gpu.device, slots);
    let kernel = this.#pass.get(local);
    if (!kernel) {
      const { encoding } = this.query;
      kernel = this.chunks().then((c) => ColumnPassKernel.create(this.gpu, encoding, c, local));
      this.#pass.set(local, kernel);
    }
    return kernel;
  }

  /** Count, nulls, NaNs, extent and sum of the rows `mask` keeps. */
  describe(mask: GPUBuffer): Promise<ColumnSummary> {
    return this.serial(async () => summarize(this.query, await this.#totals(mask)));
  }

  /** The histogram of the rows `mask` keeps, with bins as `spec` (checked) asks. */
  histogram(mask: GPUBuffer, site: OptionSite, spec: BinSpec): Promise<Histogram> {
    return this.serial(async () => {
      const plan = await this.#plan(mask, site, spec);
      this.#histogram ??= new HistogramQuery(this.gpu);
      return this.#histogram.run(mask, plan, await this.passKernel(plan.bins + EXTRA_SLOTS));
    });
  }

  /** The bins `spec` (checked) asks for, a missing range taken from the rows `mask` keeps. */
  binPlan(mask: GPUBuffer, site: OptionSite, spec: BinSpec): Promise<BinPlan> {
    return this.serial(() => this.#plan(mask, site, spec));
  }

  async #plan(mask: GPUBuffer, site: OptionSite, spec: BinSpec): Promise<BinPlan> {
    if (this.dictionary) return dictionaryPlan(this.column.extras.dictionarySize ?? 0);
    const needsExtent = spec.min === undefined || spec.max === undefined;
    const extent = needsExtent ? finiteExtent(this.query, await this.#totals(mask)) : null;
    return numericPlan(this.query.space, spec.bins as number, binRange(site, spec, extent));
  }

  /** The describe kernel's totals over the rows `mask` keeps (callers hold the serialiser). */
  async #totals(mask: GPUBuffer): Promise<Totals> {
    this.#describe ??= this.chunks().then((c) => DescribeKernel.create(this.gpu, this.query.encoding, c));
    const kernel = await this.#describe;
    return combinePartials(this.query, await kernel.run(mask));
  }
}
