import type { Encoding } from '../../columns/encoding.js';
import type { BoundChunk } from './chunk-bindings.js';
import { type QueryGpu, readUsage, scratchUsage } from './query-gpu.js';
import { dispatch, type ReadTarget, submitAndRead } from './submit.js';
import { itemWgsl } from './wgsl-items.js';

/** Words of one workgroup's partial record (see `describeWgsl`). */
export const PARTIAL_WORDS = 18;

/**
 * One workgroup's reduction of a chunk: every thread folds its rows (a grid stride), then the threads'
 * accumulators meet in a tree in workgroup memory. Record: finite count, NaN count, +∞ and −∞ counts,
 * min key (hi, lo), max key (hi, lo), 128-bit integer sum (4 words), f32 sum bits, null count, and
 * the finite values' min and max keys (hi, lo each; ±Infinity left out), which default histogram ranges.
 */
export function describeWgsl(encoding: Encoding, workgroup: number): string {
  return `${itemWgsl(encoding)}
@group(1) @binding(0) var<storage, read> mask: array<u32>;
@group(1) @binding(1) var<storage, read_write> partials: array<u32>;
const WG = ${workgroup}u;
var<workgroup> sCounts: array<vec4<u32>, WG>;
var<workgroup> sNulls: array<u32, WG>;
var<workgroup> sMin: array<vec2<u32>, WG>;
var<workgroup> sMax: array<vec2<u32>, WG>;
var<workgroup> sWide: array<vec4<u32>, WG>;
var<workgroup> sF: array<f32, WG>;
var<workgroup> sFiniteMin: array<vec2<u32>, WG>;
var<workgroup> sFiniteMax: array<vec2<u32>, WG>;

fn selectedAt(i: u32) -> bool {
  return ((mask[chunk.wordOffset + (i >> 5u)] >> (i & 31u)) & 1u) == 1u;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>) {
  var counts = vec4<u32>(0u);
  var nulls = 0u;
  var lo = vec2<u32>(0xffffffffu, 0xffffffffu);
  var hi = vec2<u32>(0u, 0u);
  var wide = vec4<u32>(0u);
  var f = 0.0;
  var finiteLo = lo;
  var finiteHi = hi;
  for (var i = wid.x * WG + lid; i < chunk.rows; i += groups.x * WG) {
    if (!selectedAt(i)) { continue; }
    if (!validAt(i)) { nulls += 1u; continue; }
    let it = item(i);
    counts[it.cls] += 1u;
    if (it.cls == NAN) { continue; }
    if (keyLess(it.key, lo)) { lo = it.key; }
    if (keyLess(hi, it.key)) { hi = it.key; }
    if (it.cls != FINITE) { continue; }
    wide = add128(wide, it.wide);
    f += it.f;
    if (keyLess(it.key, finiteLo)) { finiteLo = it.key; }
    if (keyLess(finiteHi, it.key)) { finiteHi = it.key; }
  }
  sCounts[lid] = counts; sNulls[lid] = nulls; sMin[lid] = lo; sMax[lid] = hi; sWide[lid] = wide; sF[lid] = f;
  sFiniteMin[lid] = finiteLo; sFiniteMax[lid] = finiteHi;
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      let o = lid + s;
      sCounts[lid] += sCounts[o];
      sNulls[lid] += sNulls[o];
      if (keyLess(sMin[o], sMin[lid])) { sMin[lid] = sMin[o]; }
      if (keyLess(sMax[lid], sMax[o])) { sMax[lid] = sMax[o]; }
      sWide[lid] = add128(sWide[lid], sWide[o]);
      sF[lid] += sF[o];
      if (keyLess(sFiniteMin[o], sFiniteMin[lid])) { sFiniteMin[lid] = sFiniteMin[o]; }
      if (keyLess(sFiniteMax[lid], sFiniteMax[o])) { sFiniteMax[lid] = sFiniteMax[o]; }
    }
  }
  if (lid == 0u) {
    let at = (chunk.partialBase + wid.x) * ${PARTIAL_WORDS}u;
    let c = sCounts[0];
    partials[at] = c.x; partials[at + 1u] = c.y; partials[at + 2u] = c.z; partials[at + 3u] = c.w;
    partials[at + 4u] = sMin[0].x; partials[at + 5u] = sMin[0].y;
    partials[at + 6u] = sMax[0].x; partials[at + 7u] = sMax[0].y;
    let w = sWide[0];
    partials[at + 8u] = w.x; partials[at + 9u] = w.y; partials[at + 10u] = w.z; partials[at + 11u] = w.w;
    partials[at + 12u] = bitcast<u32>(sF[0]);
    partials[at + 13u] = sNulls[0];
    partials[at + 14u] = sFiniteMin[0].x; partials[at + 15u] = sFiniteMin[0].y;
    partials[at + 16u] = sFiniteMax[0].x; partials[at + 17u] = sFiniteMax[0].y;
  }
}`;
}

/** The describe pipeline of one column with its scratch: partial records and their read-back buffer. */
export class DescribeKernel {
  readonly #masks = new WeakMap<GPUBuffer, GPUBindGroup>();

  private constructor(
    readonly gpu: QueryGpu,
    readonly chunks: readonly BoundChunk[],
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    readonly target: ReadTarget,
  ) {}

  /** Compiles the kernel for `encoding` and makes its scratch for `chunks`. */
  static async create(
    gpu: QueryGpu,
    encoding: Encoding,
    chunks: readonly BoundChunk[],
  ): Promise<DescribeKernel> {
    const layout = gpu.layout('describe', ['read-only-storage', 'storage']);
    const code = describeWgsl(encoding, gpu.workgroup);
    const pipeline = await gpu.pipeline(`describe ${encoding}`, code, [gpu.chunkLayout, layout]);
    const records = chunks.reduce((n, c) => n + c.groups, 0);
    const bytes = Math.max(1, records) * PARTIAL_WORDS * 4;
    const buffer = await gpu.buffer('describe partials', bytes, scratchUsage());
    const staging = await gpu.buffer('describe read-back', bytes, readUsage());
    return new DescribeKernel(gpu, chunks, pipeline, layout, {
      buffer,
      staging,
      bytes: records * PARTIAL_WORDS * 4,
    });
  }

  /** Every workgroup's partial record over the rows `mask` keeps. */
  async run(mask: GPUBuffer): Promise<Uint32Array> {
    let group1 = this.#masks.get(mask);
    if (!group1) {
      group1 = this.gpu.bind('describe mask', this.layout, [mask, this.target.buffer]);
      this.#masks.set(mask, group1);
    }
    const bytes = await submitAndRead(
      this.gpu.device,
      'describe',
      (encoder) => {
        for (const chunk of this.chunks)
          dispatch(encoder, this.pipeline, [chunk.group0, group1], chunk.groups);
      },
      this.target,
    );
    return new Uint32Array(bytes);
  }
}
