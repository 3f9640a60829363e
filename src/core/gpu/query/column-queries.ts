import type { ColumnSummary } from '../../../types.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import { type BoundChunk, bindChunks } from './chunk-bindings.js';
import { DescribeKernel } from './describe-kernel.js';
import { type QueryColumn, queryColumn } from './query-column.js';
import type { QueryGpu } from './query-gpu.js';
import { serialiser } from './submit.js';
import { combinePartials, summarize } from './summary.js';

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

  constructor(gpu: QueryGpu, column: UploadedColumn, what: string) {
    this.gpu = gpu;
    this.column = column;
    this.query = queryColumn(column, what);
  }

  /** The column's chunks as group 0 binds them. */
  chunks(): Promise<BoundChunk[]> {
    this.#chunks ??= bindChunks(this.gpu, this.column);
    return this.#chunks;
  }

  /** Count, nulls, NaNs, extent and sum of the rows `mask` keeps. */
  describe(mask: GPUBuffer): Promise<ColumnSummary> {
    return this.serial(async () => {
      this.#describe ??= this.chunks().then((c) => DescribeKernel.create(this.gpu, this.query.encoding, c));
      const kernel = await this.#describe;
      const words = await kernel.run(mask);
      return summarize(this.query, combinePartials(this.query, words));
    });
  }
}
