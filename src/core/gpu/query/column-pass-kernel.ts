import type { Encoding } from '../../columns/encoding.js';
import type { BinPlan } from './bin-plan.js';
import type { BoundChunk } from './chunk-bindings.js';
import { columnPassWgsl, PASS_HEADER_WORDS } from './column-pass-wgsl.js';
import { KEY_END } from './ordered-keys.js';
import type { QueryGpu } from './query-gpu.js';
import { dispatch } from './submit.js';

/**
 * Most workgroups a pass dispatches over one chunk: each thread then loops over its share of rows. On an
 * H100, 16384 counted 10 M rows 30% faster than 1024 (more loads in flight; the flushes stay cheap).
 */
export const PASS_GROUPS = 16384;

/** Workgroups of a pass over `rows` rows: one row a thread, at most `PASS_GROUPS`. */
export function passGroups(rows: number, workgroup: number): number {
  return Math.max(1, Math.min(PASS_GROUPS, Math.ceil(rows / workgroup)));
}

/** What a run of the column pass writes where: see `PASS_MODE`. */
export interface PassParams {
  mode: number;
  plan: BinPlan;
  /** First word of `out` this column's bin codes or brush bits go to (0 for a histogram). */
  outBase?: number;
  /** Count straight into `out` (a histogram of more slots than workgroup memory holds). */
  global?: boolean;
}

/** The parameter words of a run: the header, then each threshold below KEY_END as (hi, lo). */
export function passWords({ mode, plan, outBase = 0, global = false }: PassParams): Uint32Array<ArrayBuffer> {
  const searched = plan.thresholds.filter((t) => t < KEY_END);
  const words = new Uint32Array(PASS_HEADER_WORDS + 2 * plan.thresholds.length);
  words.set([mode, plan.bins, searched.length, outBase, global ? 1 : 0]);
  for (const [k, t] of searched.entries()) {
    words[PASS_HEADER_WORDS + 2 * k] = Number(t >> 32n);
    words[PASS_HEADER_WORDS + 2 * k + 1] = Number(t & 0xffffffffn);
  }
  return words;
}

const layouts = new WeakMap<QueryGpu, GPUBindGroupLayout>();

/** Group 1 of every column pass kernel of a table, one object: a bind group made for one kernel serves all. */
function passLayout(gpu: QueryGpu): GPUBindGroupLayout {
  let layout = layouts.get(gpu);
  if (!layout) {
    layout = gpu.layout('column pass', ['read-only-storage', 'read-only-storage', 'storage']);
    layouts.set(gpu, layout);
  }
  return layout;
}

/** The column pass pipeline of one column, dispatched over each of its chunks (see column-pass-wgsl.ts). */
export class ColumnPassKernel {
  private constructor(
    readonly gpu: QueryGpu,
    readonly chunks: readonly BoundChunk[],
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    /** Counters one workgroup keeps in workgroup memory (see `localSlotsFor`). */
    readonly localSlots: number,
  ) {}

  /** Compiles the kernel for `encoding` with `localSlots` workgroup counters (once a table: pipelines are shared by code). */
  static async create(
    gpu: QueryGpu,
    encoding: Encoding,
    chunks: readonly BoundChunk[],
    localSlots: number,
  ): Promise<ColumnPassKernel> {
    const layout = passLayout(gpu);
    const code = columnPassWgsl(encoding, gpu.workgroup, localSlots);
    const pipeline = await gpu.pipeline(`column pass ${encoding}`, code, [gpu.chunkLayout, layout]);
    return new ColumnPassKernel(gpu, chunks, pipeline, layout, localSlots);
  }

  /** Group 1 of a run: the row mask, the parameters and the output. */
  bind(label: string, mask: GPUBuffer, params: GPUBuffer, out: GPUBuffer): GPUBindGroup {
    return this.gpu.bind(label, this.layout, [mask, params, out]);
  }

  /** Records the run of `group1` over every chunk of the column. */
  encode(encoder: GPUCommandEncoder, group1: GPUBindGroup): void {
    for (const chunk of this.chunks) {
      dispatch(encoder, this.pipeline, [chunk.group0, group1], passGroups(chunk.rows, this.gpu.workgroup));
    }
  }
}
