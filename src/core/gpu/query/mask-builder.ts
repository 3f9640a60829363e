import type { Encoding } from '../../columns/encoding.js';
import type { BoundChunk } from './chunk-bindings.js';
import type { CombineOp, MaskKernels } from './mask-kernels.js';
import type { KeyInterval, MaskPlan } from './mask-plan.js';
import { readUsage, scratchUsage } from './query-gpu.js';
import { dispatch, submitAndRead } from './submit.js';

/** A column's chunks as the mask kernels bind them, and its encoding. */
export interface MaskColumn {
  encoding: Encoding;
  chunks: readonly BoundChunk[];
}

/** What building a mask needs of its table. */
export interface MaskTable {
  kernels: MaskKernels;
  /** Mask words of the table: one a 32 rows, at least one. */
  words: number;
  /** The mask of every row (bits past the last row 0). */
  allRows: GPUBuffer;
  column(name: string): Promise<MaskColumn>;
}

/** A mask made by `buildMask` and the rows it keeps. */
export interface BuiltMask {
  buffer: GPUBuffer;
  count: number;
}

type Step = (encoder: GPUCommandEncoder) => void;

/**
 * Makes the mask of `plan` in a new buffer and counts its rows, in one submission: leaves are written
 * by the column kernels (every word of the table's chunks), `and`/`or`/`not` update an accumulator in
 * place from temporary masks, which are reused once consumed and destroyed at the end.
 */
export async function buildMask(table: MaskTable, plan: MaskPlan, label: string): Promise<BuiltMask> {
  const builder = new MaskBuilder(table);
  const { gpu } = table.kernels;
  const out = await gpu.buffer(label, table.words * 4, scratchUsage());
  try {
    await builder.into(plan, out);
    const total = await builder.scratch('mask count', 4, scratchUsage());
    const staging = await builder.scratch('mask count read-back', 4, readUsage());
    const counter = await table.kernels.count();
    const group = gpu.bind('mask count', table.kernels.countLayout, [out, total]);
    const groups = table.kernels.groups(table.words);
    builder.steps.push((e) => dispatch(e, counter, [group], groups));
    const bytes = await submitAndRead(
      gpu.device,
      label,
      (e) => {
        for (const step of builder.steps) step(e);
      },
      { buffer: total, staging, bytes: 4 },
    );
    return { buffer: out, count: new Uint32Array(bytes)[0] as number };
  } catch (error) {
    gpu.release(out);
    throw error;
  } finally {
    builder.release();
  }
}

class MaskBuilder {
  readonly steps: Step[] = [];
  readonly #table: MaskTable;
  /** Every buffer made for this mask alone: destroyed once it is built. */
  readonly #scratch: GPUBuffer[] = [];
  /** Temporary masks whose contents were consumed: free for the next one (cleared first). */
  readonly #free: GPUBuffer[] = [];

  constructor(table: MaskTable) {
    this.#table = table;
  }

  /** Records the work that writes `plan` into `out`, a zeroed mask nothing else writes meanwhile. */
  async into(plan: MaskPlan, out: GPUBuffer): Promise<void> {
    switch (plan.op) {
      case 'none':
        return;
      case 'all':
        return this.#copyAll(out);
      case 'match':
        return this.#match(plan.column, plan.intervals, out);
      case 'nulls':
        return this.#nulls(plan.column, plan.nulls, out);
      case 'not':
        this.#copyAll(out);
        return this.#apply('andNot', plan.of, out);
      case 'or': {
        const [first, ...rest] = plan.of;
        if (first) await this.into(first, out);
        for (const p of rest) await this.#apply('or', p, out);
        return;
      }
      case 'and': {
        // `and` with `not x` is `andNot x`: no complement is ever made.
        const plain = plan.of.filter((p) => p.op !== 'not');
        const negated = plan.of.flatMap((p) => (p.op === 'not' ? [p.of] : []));
        const [first, ...rest] = plain;
        if (first) await this.into(first, out);
        else this.#copyAll(out);
        for (const p of rest) await this.#apply('and', p, out);
        for (const p of negated) await this.#apply('andNot', p, out);
      }
    }
  }

  /** A buffer that lives until the mask is built. */
  async scratch(label: string, bytes: number, usage: number): Promise<GPUBuffer> {
    const buffer = await this.#table.kernels.gpu.buffer(label, bytes, usage);
    this.#scratch.push(buffer);
    return buffer;
  }

  /** Destroys what building the mask made. */
  release(): void {
    for (const buffer of this.#scratch) this.#table.kernels.gpu.release(buffer);
  }

  /** Records `out = out op mask(plan)` through a temporary mask. */
  async #apply(op: CombineOp, plan: MaskPlan, out: GPUBuffer): Promise<void> {
    const { kernels, words } = this.#table;
    const temp = await this.#temp();
    await this.into(plan, temp);
    const pipeline = await kernels.combine(op);
    const group = kernels.gpu.bind(`mask ${op}`, kernels.combineLayout, [out, temp]);
    this.steps.push((e) => dispatch(e, pipeline, [group], kernels.groups(words)));
    this.#free.push(temp);
  }

  async #temp(): Promise<GPUBuffer> {
    const reused = this.#free.pop();
    if (!reused) return this.scratch('temporary mask', this.#table.words * 4, scratchUsage());
    this.steps.push((e) => e.clearBuffer(reused));
    return reused;
  }

  #copyAll(out: GPUBuffer): void {
    const { allRows, words } = this.#table;
    this.steps.push((e) => e.copyBufferToBuffer(allRows, 0, out, 0, words * 4));
  }

  async #match(name: string, intervals: readonly KeyInterval[], out: GPUBuffer): Promise<void> {
    const { kernels } = this.#table;
    const column = await this.#table.column(name);
    const words = new Uint32Array(intervals.length * 4);
    for (const [i, [first, last]] of intervals.entries()) {
      words.set(
        [Number(first >> 32n), Number(first & 0xffffffffn), Number(last >> 32n), Number(last & 0xffffffffn)],
        i * 4,
      );
    }
    const keys = await kernels.gpu.words(`keys of ${name}`, words, GPUBufferUsage.STORAGE);
    this.#scratch.push(keys);
    const pipeline = await kernels.match(column.encoding);
    const group1 = kernels.gpu.bind(`mask of ${name}`, kernels.matchLayout, [out, keys]);
    this.#perChunk(column.chunks, pipeline, group1);
  }

  async #nulls(name: string, nulls: boolean, out: GPUBuffer): Promise<void> {
    const { kernels } = this.#table;
    const column = await this.#table.column(name);
    const pipeline = await kernels.nulls(nulls);
    const group1 = kernels.gpu.bind(`nulls of ${name}`, kernels.nullsLayout, [out]);
    this.#perChunk(column.chunks, pipeline, group1);
  }

  #perChunk(chunks: readonly BoundChunk[], pipeline: GPUComputePipeline, group1: GPUBindGroup): void {
    const { kernels } = this.#table;
    for (const chunk of chunks) {
      if (chunk.rows === 0) continue;
      const groups = kernels.groups(Math.ceil(chunk.rows / 32));
      this.steps.push((e) => dispatch(e, pipeline, [chunk.group0, group1], groups));
    }
  }
}
