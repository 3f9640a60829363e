import type { CrossfilterResult } from '../../../types.js';
import type { BinSpec, Brush } from './bin-options.js';
import { type BinPlan, brushPlan, EXTRA_SLOTS } from './bin-plan.js';
import { type ColumnPassKernel, passWords } from './column-pass-kernel.js';
import { PASS_HEADER_WORDS, PASS_MODE } from './column-pass-wgsl.js';
import type { ColumnQueries } from './column-queries.js';
import { CrossfilterKernel, LAYOUT_DIM_WORDS, LAYOUT_HEADER_WORDS, NO_BRUSH } from './crossfilter-kernel.js';
import { crossfilterSizes } from './crossfilter-options.js';
import { histogramOf } from './histogram-query.js';
import { type QueryGpu, readUsage, scratchUsage } from './query-gpu.js';
import { submitAndRead } from './submit.js';

/** One dimension of a crossfilter request, its bins checked. */
export interface CrossfilterDim {
  name: string;
  queries: ColumnQueries;
  spec: BinSpec;
}

/** A dimension as the crossfilter keeps it. */
interface Dim {
  name: string;
  queries: ColumnQueries;
  kernel: ColumnPassKernel;
  plan: BinPlan;
  /** First slot of its counters, first word of its bin codes and of its brush bits. */
  slotBase: number;
  codeBase: number;
  maskBase: number;
  brushParams: GPUBuffer;
  brushGroup: GPUBindGroup;
  /** The brush its bits hold now; `undefined` when unknown (a failed update), so recomputed next time. */
  brush: Brush | undefined;
}

/** The buffers a crossfilter keeps between updates. */
interface Buffers {
  codes: GPUBuffer;
  brushes: GPUBuffer;
  layout: GPUBuffer;
  counts: GPUBuffer;
  staging: GPUBuffer;
}

/**
 * Linked histograms of several columns of one table, for one set of dimensions. Made once: each row's bin
 * in every dimension, as u16 codes. A brush update then recomputes the brush bits of the dimensions whose
 * brush changed, and one counting pass over the codes and bits gives every histogram.
 */
export class Crossfilter {
  readonly #groups = new WeakMap<GPUBuffer, GPUBindGroup>();

  private constructor(
    readonly gpu: QueryGpu,
    /** The dimensions' names and bin options, as `crossfilterKey` writes them. */
    readonly key: string,
    readonly rows: number,
    readonly dims: readonly Dim[],
    readonly slots: number,
    readonly buffers: Buffers,
    readonly kernel: CrossfilterKernel,
    readonly owned: readonly GPUBuffer[],
  ) {}

  /** Plans every dimension's bins over all rows (`allRows`) and writes each row's bin codes. */
  static async create(
    gpu: QueryGpu,
    key: string,
    rows: number,
    request: readonly CrossfilterDim[],
    allRows: GPUBuffer,
  ): Promise<Crossfilter> {
    const plans = await Promise.all(
      request.map((d) =>
        d.queries.binPlan(allRows, { call: 'crossfilter', prefix: `dims.${d.name}.` }, d.spec),
      ),
    );
    const sizes = crossfilterSizes(rows, request.length, gpu.device.limits);
    const owned: GPUBuffer[] = [];
    const make = async (label: string, bytes: number, usage: number) => {
      const buffer = await gpu.buffer(`crossfilter ${label}`, bytes, usage);
      owned.push(buffer);
      return buffer;
    };
    try {
      const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
      const slots = plans.reduce((n, p) => n + p.bins + EXTRA_SLOTS, 0) + 2;
      const buffers: Buffers = {
        codes: await make('bin codes', request.length * sizes.codeWords * 4, GPUBufferUsage.STORAGE),
        brushes: await make('brush bits', request.length * sizes.maskWords * 4, GPUBufferUsage.STORAGE),
        layout: await make('layout', (LAYOUT_HEADER_WORDS + LAYOUT_DIM_WORDS * request.length) * 4, storage),
        counts: await make('counts', slots * 4, scratchUsage()),
        staging: await make('read-back', slots * 4, readUsage()),
      };
      const dims: Dim[] = [];
      let slotBase = 0;
      for (const [d, { name, queries }] of request.entries()) {
        const plan = plans[d] as BinPlan;
        const kernel = await queries.passKernel(0);
        const brushParams = await make(`brush of ${name}`, (PASS_HEADER_WORDS + 4) * 4, storage);
        const brushGroup = kernel.bind(`crossfilter brush of ${name}`, allRows, brushParams, buffers.brushes);
        const [codeBase, maskBase] = [d * sizes.codeWords, d * sizes.maskWords];
        dims.push({
          name,
          queries,
          kernel,
          plan,
          slotBase,
          codeBase,
          maskBase,
          brushParams,
          brushGroup,
          brush: null,
        });
        slotBase += plan.bins + EXTRA_SLOTS;
      }
      const kernel = await CrossfilterKernel.create(gpu, slots);
      await writeCodes(gpu, dims, allRows, buffers.codes);
      return new Crossfilter(gpu, key, rows, dims, slots, buffers, kernel, owned);
    } catch (error) {
      for (const buffer of owned) gpu.release(buffer);
      throw error;
    }
  }

  /** Every dimension's histogram over the rows `mask` keeps and the other dimensions' brushes pass. */
  async update(mask: GPUBuffer, brushes: ReadonlyMap<string, Brush>): Promise<CrossfilterResult> {
    const { device } = this.gpu;
    const { counts, staging, layout } = this.buffers;
    try {
      const bytes = await submitAndRead(
        device,
        'crossfilter',
        (encoder) => {
          for (const dim of this.dims) this.#brush(encoder, dim, brushes.get(dim.name) ?? null);
          device.queue.writeBuffer(layout, 0, this.#layoutWords());
          encoder.clearBuffer(counts, 0, this.slots * 4);
          this.kernel.encode(encoder, this.#group(mask), this.rows);
        },
        { buffer: counts, staging, bytes: this.slots * 4 },
      );
      return this.#result(new Uint32Array(bytes));
    } catch (error) {
      for (const dim of this.dims) dim.brush = undefined;
      throw error;
    }
  }

  /** Destroys the crossfilter's buffers. */
  destroy(): void {
    for (const buffer of this.owned) this.gpu.release(buffer);
  }

  /** Records the pass that writes `dim`'s brush bits, when its brush changed. */
  #brush(encoder: GPUCommandEncoder, dim: Dim, brush: Brush): void {
    if (dim.brush !== undefined && sameBrush(dim.brush, brush)) return;
    dim.brush = brush;
    if (!brush) return;
    const plan = brushPlan(dim.queries.query.space, brush[0], brush[1]);
    const words = passWords({ mode: PASS_MODE.brush, plan, outBase: dim.maskBase });
    this.gpu.device.queue.writeBuffer(dim.brushParams, 0, words);
    dim.kernel.encode(encoder, dim.brushGroup);
  }

  /** The counting pass's layout: rows, dimensions, slots, whether global; each dimension's bases and bins. */
  #layoutWords(): Uint32Array<ArrayBuffer> {
    const words = new Uint32Array(LAYOUT_HEADER_WORDS + LAYOUT_DIM_WORDS * this.dims.length);
    words.set([this.rows, this.dims.length, this.slots, this.kernel.global ? 1 : 0]);
    for (const [d, dim] of this.dims.entries()) {
      const brush = dim.brush ? dim.maskBase : NO_BRUSH;
      words.set(
        [dim.codeBase, brush, dim.slotBase, dim.plan.bins],
        LAYOUT_HEADER_WORDS + LAYOUT_DIM_WORDS * d,
      );
    }
    return words;
  }

  #group(mask: GPUBuffer): GPUBindGroup {
    let group = this.#groups.get(mask);
    if (!group) {
      const { codes, brushes, layout, counts } = this.buffers;
      group = this.kernel.bind(mask, codes, brushes, layout, counts);
      this.#groups.set(mask, group);
    }
    return group;
  }

  #result(slots: Uint32Array): CrossfilterResult {
    const dims = Object.fromEntries(
      this.dims.map((d) => [
        d.name,
        histogramOf(d.plan, slots.subarray(d.slotBase, d.slotBase + d.plan.bins + EXTRA_SLOTS)),
      ]),
    );
    return { rows: slots[this.slots - 2] as number, selected: slots[this.slots - 1] as number, dims };
  }
}

/** The key of a crossfilter's dimensions: the same key, the same bins (and the same per-row state). */
export function crossfilterKey(dims: readonly CrossfilterDim[]): string {
  return JSON.stringify(
    dims.map((d) => [d.name, d.spec.bins ?? null, d.spec.min ?? null, d.spec.max ?? null]),
  );
}

function sameBrush(a: Brush, b: Brush): boolean {
  return a === b || (a !== null && b !== null && a[0] === b[0] && a[1] === b[1]);
}

/** Writes every row's bin code in each dimension, in one submission; the parameters go once it is done. */
async function writeCodes(
  gpu: QueryGpu,
  dims: readonly Dim[],
  allRows: GPUBuffer,
  codes: GPUBuffer,
): Promise<void> {
  const params: GPUBuffer[] = [];
  try {
    for (const dim of dims) {
      const words = passWords({ mode: PASS_MODE.bins, plan: dim.plan, outBase: dim.codeBase });
      params.push(await gpu.words(`crossfilter bins of ${dim.name}`, words, GPUBufferUsage.STORAGE));
    }
    await submitAndRead(gpu.device, 'crossfilter bins', (encoder) => {
      for (const [d, dim] of dims.entries()) {
        const group = dim.kernel.bind(
          `crossfilter bins of ${dim.name}`,
          allRows,
          params[d] as GPUBuffer,
          codes,
        );
        dim.kernel.encode(encoder, group);
      }
    });
  } finally {
    for (const buffer of params) gpu.release(buffer);
  }
}
