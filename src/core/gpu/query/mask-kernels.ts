import type { QueryGpu } from './query-gpu.js';
import { readUsage, scratchUsage } from './query-gpu.js';
import { dispatch, submitAndRead } from './submit.js';

/** How `combine` makes each word of a row mask from two others. */
export type MaskOp = 'and' | 'or' | 'andNot' | 'ones';
const OPS: Record<MaskOp, number> = { and: 0, or: 1, andNot: 2, ones: 3 };

/** Most workgroups of a mask kernel; threads loop over the words beyond. */
const MAX_GROUPS = 4096;

function combineWgsl(workgroup: number): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> params: vec4<u32>; // op, rows, words
@compute @workgroup_size(${workgroup})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  for (var w = gid.x; w < params.z; w += groups.x * ${workgroup}u) {
    var v: u32;
    switch params.x {
      case 0u: { v = a[w] & b[w]; }
      case 1u: { v = a[w] | b[w]; }
      case 2u: { v = a[w] & ~b[w]; }
      default: { v = 0xffffffffu; }
    }
    // Bits past the last row stay 0, whatever the inputs hold there.
    let first = w * 32u;
    if (first + 32u > params.y) { v &= select(0u, (1u << (params.y - first)) - 1u, params.y > first); }
    out[w] = v;
  }
}`;
}

function popcountWgsl(workgroup: number): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> total: atomic<u32>;
@group(0) @binding(2) var<uniform> params: vec4<u32>; // -, rows, words
var<workgroup> sum: atomic<u32>;
@compute @workgroup_size(${workgroup})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
  var n = 0u;
  for (var w = gid.x; w < params.z; w += groups.x * ${workgroup}u) { n += countOneBits(a[w]); }
  atomicAdd(&sum, n);
  workgroupBarrier();
  if (lid == 0u) { atomicAdd(&total, atomicLoad(&sum)); }
}`;
}

/** Row masks of one table (one bit a row, as validity): combining two, and counting set bits. */
export class MaskKernels {
  readonly words: number;

  private constructor(
    readonly gpu: QueryGpu,
    readonly rows: number,
    readonly combiner: GPUComputePipeline,
    readonly counter: GPUComputePipeline,
  ) {
    this.words = Math.max(1, Math.ceil(rows / 32));
  }

  /** Compiles both kernels for a table of `rows` rows. */
  static async create(gpu: QueryGpu, rows: number): Promise<MaskKernels> {
    const combine = gpu.layout('mask combine', [
      'read-only-storage',
      'read-only-storage',
      'storage',
      'uniform',
    ]);
    const count = gpu.layout('mask count', ['read-only-storage', 'storage', 'uniform']);
    const [combiner, counter] = await Promise.all([
      gpu.pipeline('mask combine', combineWgsl(gpu.workgroup), [combine]),
      gpu.pipeline('mask count', popcountWgsl(gpu.workgroup), [count]),
    ]);
    return new MaskKernels(gpu, rows, combiner, counter);
  }

  /** A new, zeroed mask buffer. */
  empty(label: string): Promise<GPUBuffer> {
    return this.gpu.buffer(label, this.words * 4, scratchUsage());
  }

  /** A new mask: `op` of `a` and `b` word by word (`ones`: every row). */
  async combine(op: MaskOp, a: GPUBuffer | null, b: GPUBuffer | null): Promise<GPUBuffer> {
    const out = await this.empty(`row mask (${op})`);
    const params = await this.#params(OPS[op]);
    try {
      // `ones` reads no input, yet its bindings need buffers that do not alias the output.
      const stand = a === null ? await this.empty('mask stand-in') : null;
      const x = a ?? (stand as GPUBuffer);
      const layout = this.combiner.getBindGroupLayout(0);
      const group = this.gpu.bind('mask combine', layout, [x, b ?? x, out, params]);
      await submitAndRead(this.gpu.device, `mask ${op}`, (e) =>
        dispatch(e, this.combiner, [group], this.#groups()),
      );
      if (stand) this.gpu.release(stand);
      return out;
    } catch (error) {
      this.gpu.release(out);
      throw error;
    } finally {
      this.gpu.release(params);
    }
  }

  /** The number of rows `mask` keeps. */
  async count(mask: GPUBuffer): Promise<number> {
    const total = await this.gpu.buffer('mask count', 4, scratchUsage());
    const staging = await this.gpu.buffer('mask count read-back', 4, readUsage());
    const params = await this.#params(0);
    try {
      const group = this.gpu.bind('mask count', this.counter.getBindGroupLayout(0), [mask, total, params]);
      const target = { buffer: total, staging, bytes: 4 };
      const bytes = await submitAndRead(
        this.gpu.device,
        'mask count',
        (e) => dispatch(e, this.counter, [group], this.#groups()),
        target,
      );
      return new Uint32Array(bytes)[0] as number;
    } finally {
      for (const buffer of [total, staging, params]) this.gpu.release(buffer);
    }
  }

  #params(op: number): Promise<GPUBuffer> {
    return this.gpu.words(
      'mask params',
      new Uint32Array([op, this.rows, this.words, 0]),
      GPUBufferUsage.UNIFORM,
    );
  }

  #groups(): number {
    return Math.max(1, Math.min(MAX_GROUPS, Math.ceil(this.words / this.gpu.workgroup)));
  }
}
