import type { Encoding } from '../../columns/encoding.js';
import { EXTRA_SLOTS, SLOT_ABOVE, SLOT_BELOW, SLOT_NAN, SLOT_NULL } from './bin-plan.js';
import { itemWgsl } from './wgsl-items.js';

/** What one run of the column pass kernel does (word 0 of its parameters). */
export const PASS_MODE = {
  /** Counts the rows the mask keeps into `bins + 4` slots (bins, below, above, NaN, null). */
  histogram: 0,
  /** Writes each row's bin as a u16 code, two rows a word: the bin, or `BIN_CODE_BELOW` + slot − bins. */
  bins: 1,
  /** Writes one bit a row: set when the row falls in bin 0 of a one-bin plan (a brush). */
  brush: 2,
} as const;

/** The u16 code of the first slot past the bins; the four extra slots follow it up to 0xffff. */
export const BIN_CODE_BELOW = 0x10000 - EXTRA_SLOTS;

/** Words before the thresholds in the parameters: mode, bins, thresholds searched, output base, global. */
export const PASS_HEADER_WORDS = 8;

/** Counters of a workgroup's histogram in the small kernels, enough for three dimensions of 60 bins. */
const SMALL_LOCAL_SLOTS = 256;

/** Counters of a workgroup's histogram in the large kernels (4 KiB): more count straight into global memory. */
const LARGE_LOCAL_SLOTS = 1024;

/**
 * How many counters the kernel for a histogram of `slots` counters keeps in workgroup memory: 256, or
 * 1024 (what the device allows, if less) for more. A histogram with more than that counts straight into
 * global memory, with the small kernel. Kernels are compiled per size, the large one only when needed:
 * workgroup memory is zeroed as each workgroup starts (on SwiftShader compiling that takes seconds a KiB),
 * and the less of it a workgroup takes, the more workgroups share a multiprocessor.
 */
export function localSlotsFor(device: GPUDevice, slots: number): number {
  const large = Math.min(LARGE_LOCAL_SLOTS, Math.floor(device.limits.maxComputeWorkgroupStorageSize / 4));
  return slots <= SMALL_LOCAL_SLOTS || slots > large ? SMALL_LOCAL_SLOTS : large;
}

/**
 * Finds the slot of row i of the chunk: null, NaN, or a binary search of its key over the thresholds
 * (the parameters after the header, (hi, lo) pairs; only those below KEY_END are searched).
 */
const SLOT_OF = /* wgsl */ `
fn thresholdAt(k: u32) -> vec2<u32> {
  let at = ${PASS_HEADER_WORDS}u + 2u * k;
  return vec2<u32>(params[at], params[at + 1u]);
}

fn slotOf(i: u32) -> u32 {
  let bins = params[1];
  if (!validAt(i)) { return bins + ${SLOT_NULL}u; }
  let it = item(i);
  if (it.cls == NAN) { return bins + ${SLOT_NAN}u; }
  var lo = 0u;
  var hi = params[2];
  while (lo < hi) {
    let mid = (lo + hi) >> 1u;
    if (keyLess(it.key, thresholdAt(mid))) { hi = mid; } else { lo = mid + 1u; }
  }
  if (lo == 0u) { return bins + ${SLOT_BELOW}u; }
  if (lo > bins) { return bins + ${SLOT_ABOVE}u; }
  return lo - 1u;
}`;

const HISTOGRAM = /* wgsl */ `
fn histogram(lid: u32, first: u32, stride: u32) {
  let slots = params[1] + ${EXTRA_SLOTS}u;
  let global = params[4] != 0u;
  for (var i = first; i < chunk.rows; i += stride) {
    if (((mask[chunk.wordOffset + (i >> 5u)] >> (i & 31u)) & 1u) == 0u) { continue; }
    let s = slotOf(i);
    if (global) { atomicAdd(&out[s], 1u); } else { atomicAdd(&local[s], 1u); }
  }
  workgroupBarrier();
  if (global) { return; }
  for (var s = lid; s < slots; s += WG) {
    let n = atomicLoad(&local[s]);
    if (n != 0u) { atomicAdd(&out[s], n); }
  }
}`;

const BINS = /* wgsl */ `
fn codeOf(slot: u32, bins: u32) -> u32 { return select(${BIN_CODE_BELOW}u + slot - bins, slot, slot < bins); }

fn writeBins(first: u32, stride: u32) {
  let bins = params[1];
  let base = params[3] + chunk.wordOffset * 16u;
  for (var w = first; w < (chunk.rows + 1u) / 2u; w += stride) {
    let i = 2u * w;
    var word = codeOf(slotOf(i), bins);
    if (i + 1u < chunk.rows) { word |= codeOf(slotOf(i + 1u), bins) << 16u; } else { word |= 0xffff0000u; }
    atomicStore(&out[base + w], word);
  }
}`;

const BRUSH = /* wgsl */ `
fn writeBrush(first: u32, stride: u32) {
  let base = params[3] + chunk.wordOffset;
  for (var w = first; w < (chunk.rows + 31u) / 32u; w += stride) {
    let row = w * 32u;
    let n = min(32u, chunk.rows - row);
    var bits = 0u;
    for (var b = 0u; b < n; b++) {
      if (slotOf(row + b) == 0u) { bits |= 1u << b; }
    }
    atomicStore(&out[base + w], bits);
  }
}`;

/**
 * The one kernel that bins a column, in three modes (one pipeline a encoding, since compiling is slow):
 * a masked histogram with workgroup-local counters flushed to `out`, each row's bin code for a
 * crossfilter, or a brush's row bits. Group 0 is one chunk, group 1 the row mask, the parameters
 * (header, then thresholds) and `out`.
 */
export function columnPassWgsl(encoding: Encoding, workgroup: number, slots: number): string {
  return `${itemWgsl(encoding)}
@group(1) @binding(0) var<storage, read> mask: array<u32>;
@group(1) @binding(1) var<storage, read> params: array<u32>;
@group(1) @binding(2) var<storage, read_write> out: array<atomic<u32>>;
const WG = ${workgroup}u;
var<workgroup> local: array<atomic<u32>, ${slots}>;
${SLOT_OF}
${HISTOGRAM}
${BINS}
${BRUSH}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>) {
  let first = wid.x * WG + lid;
  let stride = groups.x * WG;
  let mode = params[0];
  if (mode == ${PASS_MODE.histogram}u) {
    histogram(lid, first, stride);
  } else if (mode == ${PASS_MODE.bins}u) {
    writeBins(first, stride);
  } else {
    writeBrush(first, stride);
  }
}`;
}
