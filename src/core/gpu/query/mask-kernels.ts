import type { Encoding } from '../../columns/encoding.js';
import type { QueryGpu } from './query-gpu.js';
import { itemWgsl } from './wgsl-items.js';

/** How `combine` updates a mask from another, word by word, in place. */
export type CombineOp = 'and' | 'or' | 'andNot';
const OPERATORS: Record<CombineOp, string> = {
  and: 'acc[w] & b[w]',
  or: 'acc[w] | b[w]',
  andNot: 'acc[w] & ~b[w]',
};

/** Most workgroups of one mask dispatch; each thread then loops over its share of words. */
export const MAX_MASK_GROUPS = 4096;

/**
 * A column test over one chunk (group 0, see wgsl-items.ts): one thread a mask word, whose 32 bits are
 * the chunk's rows that are valid, not NaN, and whose key lies in one of the sorted, disjoint intervals
 * (first key hi/lo, last key hi/lo), found by binary search. Each word is written whole, so no atomics.
 */
export function matchWgsl(encoding: Encoding, workgroup: number): string {
  return `${itemWgsl(encoding)}
@group(1) @binding(0) var<storage, read_write> out: array<u32>;
@group(1) @binding(1) var<storage, read> intervals: array<vec4<u32>>;
const WG = ${workgroup}u;

fn inIntervals(key: vec2<u32>) -> bool {
  var lo = 0u;
  var hi = arrayLength(&intervals);
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (keyLess(key, intervals[mid].xy)) { hi = mid; } else { lo = mid + 1u; }
  }
  return lo > 0u && !keyLess(intervals[lo - 1u].zw, key);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let words = (chunk.rows + 31u) / 32u;
  for (var w = gid.x; w < words; w += groups.x * WG) {
    let first = w * 32u;
    let n = min(32u, chunk.rows - first);
    var bits = 0u;
    for (var b = 0u; b < n; b++) {
      let i = first + b;
      if (!validAt(i)) { continue; }
      let it = item(i);
      if (it.cls != NAN && inIntervals(it.key)) { bits |= 1u << b; }
    }
    out[chunk.wordOffset + w] = bits;
  }
}`;
}

/** A chunk's null rows (`nulls`) or valid rows, from its validity words alone: any encoding. */
export function nullsWgsl(nulls: boolean, workgroup: number): string {
  return /* wgsl */ `
struct Chunk { rows: u32, wordOffset: u32, hasValidity: u32, partialBase: u32 }
@group(0) @binding(1) var<storage, read> validity: array<u32>;
@group(0) @binding(2) var<uniform> chunk: Chunk;
@group(1) @binding(0) var<storage, read_write> out: array<u32>;
const WG = ${workgroup}u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let words = (chunk.rows + 31u) / 32u;
  for (var w = gid.x; w < words; w += groups.x * WG) {
    var valid = 0xffffffffu;
    if (chunk.hasValidity != 0u) { valid = validity[w]; }
    var bits = ${nulls ? '~valid' : 'valid'};
    // Bits past the chunk's last row stay 0, whatever the validity word holds there.
    let n = chunk.rows - w * 32u;
    if (n < 32u) { bits &= (1u << n) - 1u; }
    out[chunk.wordOffset + w] = bits;
  }
}`;
}

/** `acc = acc op b` over whole masks (bits past the last row are 0 in both, so they stay 0). */
export function combineWgsl(op: CombineOp, workgroup: number): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> acc: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
const WG = ${workgroup}u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  for (var w = gid.x; w < arrayLength(&acc); w += groups.x * WG) { acc[w] = ${OPERATORS[op]}; }
}`;
}

/** The set bits of a mask, added into `total` (zero before): per workgroup, then once a workgroup. */
export function countWgsl(workgroup: number): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> mask: array<u32>;
@group(0) @binding(1) var<storage, read_write> total: atomic<u32>;
const WG = ${workgroup}u;
var<workgroup> sum: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
  var n = 0u;
  for (var w = gid.x; w < arrayLength(&mask); w += groups.x * WG) { n += countOneBits(mask[w]); }
  atomicAdd(&sum, n);
  workgroupBarrier();
  if (lid == 0u) { atomicAdd(&total, atomicLoad(&sum)); }
}`;
}

/**
 * The mask pipelines of one table, compiled on first use and kept (QueryGpu caches them by code): one
 * column test per encoding, two validity tests, three combinations and the count.
 */
export class MaskKernels {
  readonly gpu: QueryGpu;
  /** Group 1 of a column test: the output mask, the key intervals. */
  readonly matchLayout: GPUBindGroupLayout;
  /** Group 1 of a validity test: the output mask. */
  readonly nullsLayout: GPUBindGroupLayout;
  /** Group 0 of a combination: the mask updated, the other. */
  readonly combineLayout: GPUBindGroupLayout;
  /** Group 0 of the count: the mask, the total. */
  readonly countLayout: GPUBindGroupLayout;

  constructor(gpu: QueryGpu) {
    this.gpu = gpu;
    this.matchLayout = gpu.layout('mask match', ['storage', 'read-only-storage']);
    this.nullsLayout = gpu.layout('mask nulls', ['storage']);
    this.combineLayout = gpu.layout('mask combine', ['storage', 'read-only-storage']);
    this.countLayout = gpu.layout('mask count', ['read-only-storage', 'storage']);
  }

  /** The column test of `encoding` (one that queries read). */
  match(encoding: Encoding): Promise<GPUComputePipeline> {
    const code = matchWgsl(encoding, this.gpu.workgroup);
    return this.gpu.pipeline(`mask match ${encoding}`, code, [this.gpu.chunkLayout, this.matchLayout]);
  }

  /** The validity test: null rows (`nulls`) or valid ones. */
  nulls(nulls: boolean): Promise<GPUComputePipeline> {
    const code = nullsWgsl(nulls, this.gpu.workgroup);
    return this.gpu.pipeline(`mask ${nulls ? 'nulls' : 'valid'}`, code, [
      this.gpu.chunkLayout,
      this.nullsLayout,
    ]);
  }

  /** The in-place combination `op`. */
  combine(op: CombineOp): Promise<GPUComputePipeline> {
    return this.gpu.pipeline(`mask ${op}`, combineWgsl(op, this.gpu.workgroup), [this.combineLayout]);
  }

  /** The count of set bits. */
  count(): Promise<GPUComputePipeline> {
    return this.gpu.pipeline('mask count', countWgsl(this.gpu.workgroup), [this.countLayout]);
  }

  /** Workgroups of a dispatch over `words` mask words. */
  groups(words: number): number {
    return Math.max(1, Math.min(MAX_MASK_GROUPS, Math.ceil(words / this.gpu.workgroup)));
  }
}
