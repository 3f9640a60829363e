import type { BufferTracker } from '../buffer-tracker.js';
import { chunkLayout } from './chunk-bindings.js';
import { workgroupSize } from './wgsl-items.js';

/** What every query kernel of one table shares: the device, its tracker, group 0's layout, a stand-in buffer. */
export class QueryGpu {
  readonly device: GPUDevice;
  readonly tracker: BufferTracker;
  readonly workgroup: number;
  readonly chunkLayout: GPUBindGroupLayout;
  /** Bound where a column has no validity buffer (the shader reads it only when the chunk says so). */
  noValidity: GPUBuffer | null = null;
  /** Every buffer made for queries (scratch, uniforms, masks), destroyed with the table. */
  readonly #owned = new Set<GPUBuffer>();
  #destroyed = false;
  readonly #pipelines: Map<string, Promise<GPUComputePipeline>>;

  /** `previous`: the queries of the same table before its rows grew, whose compiled kernels are reused. */
  constructor(device: GPUDevice, tracker: BufferTracker, previous?: QueryGpu) {
    this.device = device;
    this.tracker = tracker;
    this.#pipelines = previous ? previous.#pipelines : new Map();
    this.workgroup = workgroupSize(device);
    this.chunkLayout = chunkLayout(device);
  }

  /** Creates a buffer that lives until `release` or `destroy`. */
  async buffer(label: string, size: number, usage: number): Promise<GPUBuffer> {
    const buffer = await this.tracker.create({ label, size: Math.max(4, Math.ceil(size / 4) * 4), usage });
    // A query in flight when its table was destroyed: what it makes now would outlive the table.
    if (this.#destroyed) {
      this.tracker.destroy(buffer);
      throw new Error(`${label}: the table's queries were destroyed`);
    }
    this.#owned.add(buffer);
    return buffer;
  }

  /** A buffer of `words` u32 written from the CPU. */
  async words(label: string, words: Uint32Array<ArrayBuffer>, usage: number): Promise<GPUBuffer> {
    const buffer = await this.buffer(label, words.byteLength, usage | GPUBufferUsage.COPY_DST);
    if (words.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, words);
    return buffer;
  }

  /** Destroys one buffer made by `buffer`. */
  release(buffer: GPUBuffer): void {
    this.#owned.delete(buffer);
    this.tracker.destroy(buffer);
  }

  /** A compute pipeline of `code` whose bind groups have `layouts`; one per code and table (compiling is slow). */
  pipeline(label: string, code: string, layouts: GPUBindGroupLayout[]): Promise<GPUComputePipeline> {
    let pipeline = this.#pipelines.get(code);
    if (!pipeline) {
      pipeline = this.#compile(label, code, layouts);
      this.#pipelines.set(code, pipeline);
    }
    return pipeline;
  }

  #compile(label: string, code: string, layouts: GPUBindGroupLayout[]): Promise<GPUComputePipeline> {
    const module = this.device.createShaderModule({ label, code });
    return this.device.createComputePipelineAsync({
      label,
      layout: this.device.createPipelineLayout({ label, bindGroupLayouts: layouts }),
      compute: { module, entryPoint: 'main' },
    });
  }

  /** A bind group layout of compute-visible buffers of the given types, bindings 0, 1, … */
  layout(label: string, types: readonly GPUBufferBindingType[]): GPUBindGroupLayout {
    return this.device.createBindGroupLayout({
      label,
      entries: types.map((type, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type },
      })),
    });
  }

  /** A bind group of whole buffers, bindings 0, 1, … */
  bind(label: string, layout: GPUBindGroupLayout, buffers: readonly GPUBuffer[]): GPUBindGroup {
    return this.device.createBindGroup({
      label,
      layout,
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /** Destroys every buffer queries made on this table. */
  destroy(): void {
    this.#destroyed = true;
    for (const buffer of this.#owned) this.tracker.destroy(buffer);
    this.#owned.clear();
  }
}

/** Usage of query scratch: written by kernels, cleared and read back (a function: the globals may come late). */
export function scratchUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** Usage of read-back buffers. */
export function readUsage(): number {
  return GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
}
