import type { Histogram } from '../../../types.js';
import { type BinPlan, EXTRA_SLOTS, SLOT_ABOVE, SLOT_BELOW, SLOT_NAN, SLOT_NULL } from './bin-plan.js';
import { type ColumnPassKernel, passWords } from './column-pass-kernel.js';
import { PASS_HEADER_WORDS, PASS_MODE } from './column-pass-wgsl.js';
import { type QueryGpu, readUsage, scratchUsage } from './query-gpu.js';
import { submitAndRead } from './submit.js';

/** The scratch of one column's histograms: parameters, counters and their read-back, grown to the largest plan. */
interface Scratch {
  slots: number;
  params: GPUBuffer;
  counts: GPUBuffer;
  staging: GPUBuffer;
  /** Group 1 for each row mask used so far. */
  groups: WeakMap<GPUBuffer, GPUBindGroup>;
}

/**
 * Histograms of one column: one run of the column pass over its chunks counts every row the mask keeps
 * into a slot (workgroup-local counters added to global ones), and the slots come back. Callers serialise
 * runs, which share the scratch.
 */
export class HistogramQuery {
  #scratch: Scratch | null = null;

  constructor(readonly gpu: QueryGpu) {}

  /** The histogram of the rows `mask` keeps, binned by `plan`, counted by `kernel`. */
  async run(mask: GPUBuffer, plan: BinPlan, kernel: ColumnPassKernel): Promise<Histogram> {
    const slots = plan.bins + EXTRA_SLOTS;
    const scratch = await this.#grow(slots);
    const global = slots > kernel.localSlots;
    const { device } = this.gpu;
    device.queue.writeBuffer(scratch.params, 0, passWords({ mode: PASS_MODE.histogram, plan, global }));
    // Kept per mask: every column pass kernel of the table binds group 1 with the same layout.
    let group1 = scratch.groups.get(mask);
    if (!group1) {
      group1 = kernel.bind('histogram', mask, scratch.params, scratch.counts);
      scratch.groups.set(mask, group1);
    }
    const bound = group1;
    const bytes = await submitAndRead(
      device,
      'histogram',
      (encoder) => {
        encoder.clearBuffer(scratch.counts, 0, slots * 4);
        kernel.encode(encoder, bound);
      },
      { buffer: scratch.counts, staging: scratch.staging, bytes: slots * 4 },
    );
    return histogramOf(plan, new Uint32Array(bytes));
  }

  /** Scratch for at least `slots` counters: the current one, or a larger one in its place. */
  async #grow(slots: number): Promise<Scratch> {
    if (this.#scratch && this.#scratch.slots >= slots) return this.#scratch;
    const { gpu } = this;
    if (this.#scratch) {
      for (const buffer of [this.#scratch.params, this.#scratch.counts, this.#scratch.staging]) {
        gpu.release(buffer);
      }
      this.#scratch = null;
    }
    // Buffers made here belong to the table's queries: a failure part-way leaves them to its destroy.
    const thresholds = slots - EXTRA_SLOTS + 1;
    const paramBytes = (PASS_HEADER_WORDS + 2 * thresholds) * 4;
    const scratch: Scratch = {
      slots,
      params: await gpu.buffer(
        'histogram parameters',
        paramBytes,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      ),
      counts: await gpu.buffer('histogram counts', slots * 4, scratchUsage()),
      staging: await gpu.buffer('histogram read-back', slots * 4, readUsage()),
      groups: new WeakMap(),
    };
    this.#scratch = scratch;
    return scratch;
  }
}

/** The histogram of one plan from its slot counters. */
export function histogramOf(plan: BinPlan, slots: Uint32Array): Histogram {
  const { bins } = plan;
  const counts = slots.slice(0, bins);
  const extra = (slot: number) => slots[bins + slot] as number;
  const nulls = extra(SLOT_NULL);
  const nans = extra(SLOT_NAN);
  const below = extra(SLOT_BELOW);
  const above = extra(SLOT_ABOVE);
  const rows = counts.reduce((n, c) => n + c, 0) + nulls + nans + below + above;
  return { rows, edges: plan.edges.slice(), counts, nulls, nans, below, above };
}
