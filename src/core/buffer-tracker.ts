import { formatBytes, GpuError } from './errors.js';

/**
 * Creates GPU buffers inside error scopes and keeps count of those alive, so that a failed or
 * cancelled load can prove it destroyed everything it made.
 */
export class BufferTracker {
  readonly #device: GPUDevice;
  readonly #live = new Map<GPUBuffer, number>();
  #bytes = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Buffers alive now. */
  get count(): number {
    return this.#live.size;
  }

  /** Bytes of the buffers alive now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Creates a buffer, or throws `LIMIT_EXCEEDED` / `GPU_OUT_OF_MEMORY` naming `descriptor.label`. */
  async create(descriptor: GPUBufferDescriptor & { label: string }): Promise<GPUBuffer> {
    const { size, label } = descriptor;
    const max = this.#device.limits.maxBufferSize;
    if (size > max) {
      throw new GpuError(
        'LIMIT_EXCEEDED',
        `${label} needs a GPU buffer of ${formatBytes(size)}, over the device's maxBufferSize of ${formatBytes(max)}`,
        { expected: max, actual: size },
      );
    }
    this.#device.pushErrorScope('out-of-memory');
    this.#device.pushErrorScope('validation');
    const buffer = this.#device.createBuffer(descriptor);
    this.#live.set(buffer, size);
    this.#bytes += size;
    const [validation, oom] = await Promise.all([this.#device.popErrorScope(), this.#device.popErrorScope()]);
    const failure = oom ?? validation;
    if (failure) {
      this.destroy(buffer);
      throw new GpuError(
        oom ? 'GPU_OUT_OF_MEMORY' : 'LIMIT_EXCEEDED',
        `${label}: creating a GPU buffer of ${formatBytes(size)} failed: ${failure.message}`,
        { actual: size },
      );
    }
    return buffer;
  }

  /** Destroys a buffer made by `create`; a second call is a no-op. */
  destroy(buffer: GPUBuffer): void {
    const size = this.#live.get(buffer);
    if (size === undefined) return;
    this.#live.delete(buffer);
    this.#bytes -= size;
    buffer.destroy();
  }

  /** Destroys every buffer still alive (device teardown). */
  destroyAll(): void {
    for (const buffer of [...this.#live.keys()]) this.destroy(buffer);
  }
}
