import { passGroups } from './column-pass-kernel.js';
import { BIN_CODE_BELOW, localSlotsFor } from './column-pass-wgsl.js';
import type { QueryGpu } from './query-gpu.js';
import { dispatch } from './submit.js';

/** Words of the crossfilter layout before the dimensions: rows, dimensions, slots, global. */
export const LAYOUT_HEADER_WORDS = 4;
/** Words of one dimension in the layout: first bin code word, first brush word (or NO_BRUSH), first slot, bins. */
export const LAYOUT_DIM_WORDS = 4;
/** The brush word of an unbrushed dimension. */
export const NO_BRUSH = 0xffffffff;

/**
 * Counts every dimension's histogram in one pass over the rows: a row the mask keeps that fails no brush
 * adds to every dimension, one that fails exactly one brush adds to that dimension only, and one that
 * fails more adds to none. The last two slots count the rows kept and those that pass every brush.
 */
export function crossfilterWgsl(workgroup: number, slots: number): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> mask: array<u32>;
@group(0) @binding(1) var<storage, read> codes: array<u32>;
@group(0) @binding(2) var<storage, read> brushes: array<u32>;
@group(0) @binding(3) var<storage, read> dimensions: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<atomic<u32>>;
const WG = ${workgroup}u;
var<workgroup> local: array<atomic<u32>, ${slots}>;

fn dimWord(d: u32, k: u32) -> u32 { return dimensions[${LAYOUT_HEADER_WORDS}u + ${LAYOUT_DIM_WORDS}u * d + k]; }

fn bitAt(words: u32, i: u32) -> bool { return ((words >> (i & 31u)) & 1u) == 1u; }

fn count(slot: u32, global: bool) {
  if (global) { atomicAdd(&out[slot], 1u); } else { atomicAdd(&local[slot], 1u); }
}

// Counts row i where its brushes let it; true when it passes all of them.
fn countRow(i: u32, dims: u32, global: bool) -> bool {
  var fails = 0u;
  var failed = 0u;
  for (var d = 0u; d < dims; d++) {
    let brush = dimWord(d, 1u);
    if (brush != ${NO_BRUSH}u && !bitAt(brushes[brush + (i >> 5u)], i)) { fails++; failed = d; }
  }
  if (fails > 1u) { return false; }
  for (var d = 0u; d < dims; d++) {
    if (fails == 1u && d != failed) { continue; }
    let code = (codes[dimWord(d, 0u) + (i >> 1u)] >> ((i & 1u) * 16u)) & 0xffffu;
    let bins = dimWord(d, 3u);
    count(dimWord(d, 2u) + select(bins + code - ${BIN_CODE_BELOW}u, code, code < bins), global);
  }
  return fails == 0u;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>) {
  let rows = dimensions[0];
  let dims = dimensions[1];
  let slots = dimensions[2];
  let global = dimensions[3] != 0u;
  // Rows kept and rows selected are counted per thread first: one shared counter per row would serialise.
  var kept = 0u;
  var selected = 0u;
  for (var i = wid.x * WG + lid; i < rows; i += groups.x * WG) {
    if (!bitAt(mask[i >> 5u], i)) { continue; }
    kept++;
    if (countRow(i, dims, global)) { selected++; }
  }
  if (global) {
    atomicAdd(&out[slots - 2u], kept);
    atomicAdd(&out[slots - 1u], selected);
  } else {
    atomicAdd(&local[slots - 2u], kept);
    atomicAdd(&local[slots - 1u], selected);
  }
  workgroupBarrier();
  if (global) { return; }
  for (var s = lid; s < slots; s += WG) {
    let n = atomicLoad(&local[s]);
    if (n != 0u) { atomicAdd(&out[s], n); }
  }
}`;
}

/** The crossfilter counting pipeline of a table (one for every column type: it reads bin codes only). */
export class CrossfilterKernel {
  private constructor(
    readonly gpu: QueryGpu,
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    /** Whether the counters are too many for workgroup memory, and so are counted in `out` directly. */
    readonly global: boolean,
  ) {}

  /** Compiles the kernel for `slots` counters (once a table and workgroup memory size). */
  static async create(gpu: QueryGpu, slots: number): Promise<CrossfilterKernel> {
    const storage = 'read-only-storage';
    const layout = gpu.layout('crossfilter', [storage, storage, storage, storage, 'storage']);
    const local = localSlotsFor(gpu.device, slots);
    const pipeline = await gpu.pipeline('crossfilter', crossfilterWgsl(gpu.workgroup, local), [layout]);
    return new CrossfilterKernel(gpu, pipeline, layout, slots > local);
  }

  /** The bind group of a row mask, the bin codes, the brush bits, the layout and the counters. */
  bind(
    mask: GPUBuffer,
    codes: GPUBuffer,
    brushes: GPUBuffer,
    layout: GPUBuffer,
    out: GPUBuffer,
  ): GPUBindGroup {
    return this.gpu.bind('crossfilter', this.layout, [mask, codes, brushes, layout, out]);
  }

  /** Records one counting pass over `rows` rows. */
  encode(encoder: GPUCommandEncoder, group: GPUBindGroup, rows: number): void {
    dispatch(encoder, this.pipeline, [group], passGroups(rows, this.gpu.workgroup));
  }
}
