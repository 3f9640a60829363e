import { type ErrorDetails, formatBytes, LimitError } from '../errors.js';
import { gpuFailure, withErrorScope } from './error-scope.js';

/** A cap on buffer sizes and what sets it, for error messages. */
export interface BufferLimit {
  bytes: number;
  /** E.g. `the device's maxBufferSize`. */
  name: string;
}

/**
 * Creates GPU buffers inside error scopes and keeps count of those alive, so that a failed or
 * cancelled load can prove it destroyed everything it made.
 */
export class BufferTracker {
  readonly #device: GPUDevice;
  readonly #live = new Map<GPUBuffer, number>();
  /** Buffers whose mapped ranges other threads write into, until these settle (see `writtenUntil`). */
  readonly #writes = new Map<GPUBuffer, Promise<void>>();
  #bytes = 0;
  /** Bytes destroyed since `releaseDestroyed` last submitted. */
  #destroyedBytes = 0;
  /** The device's own cap, which every buffer obeys. */
  readonly deviceLimit: BufferLimit;
  /** The cap on one column's buffer: the device's, or the loader's `maxBufferBytes` when smaller. */
  readonly columnLimit: BufferLimit;

  /** Whether `releaseDestroyed` submits: not on a stand-in for a device on another thread. */
  readonly #submits: boolean;

  constructor(device: GPUDevice, maxBufferBytes?: number, submits = true) {
    this.#device = device;
    this.#submits = submits;
    this.deviceLimit = { bytes: device.limits.maxBufferSize, name: "the device's maxBufferSize" };
    this.columnLimit =
      maxBufferBytes !== undefined && maxBufferBytes < this.deviceLimit.bytes
        ? { bytes: maxBufferBytes, name: "the loader's maxBufferBytes" }
        : this.deviceLimit;
  }

  /** Buffers alive now. */
  get count(): number {
    return this.#live.size;
  }

  /** Bytes of the buffers alive now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Creates a buffer, or throws `LIMIT_EXCEEDED` (over `limit`), `GPU_OUT_OF_MEMORY` or `GPU_VALIDATION`
   * (refused by the device) naming `descriptor.label`; `details` go into the error.
   */
  async create(
    descriptor: GPUBufferDescriptor & { label: string },
    options: { limit?: BufferLimit; details?: ErrorDetails } = {},
  ): Promise<GPUBuffer> {
    const { buffer, created } = this.createNow(descriptor, options);
    await created;
    return buffer;
  }

  /**
   * `create`, with the buffer handed out before the device has answered: GPU calls may use it at once
   * (WebGPU orders them after its creation), and `created` rejects as `create` would when the device
   * refused it (the buffer is then destroyed, and the calls that used it failed too). Over `limit`, it
   * throws `LIMIT_EXCEEDED` at once.
   */
  createNow(
    descriptor: GPUBufferDescriptor & { label: string },
    { limit = this.deviceLimit, details = {} }: { limit?: BufferLimit; details?: ErrorDetails } = {},
  ): { buffer: GPUBuffer; created: Promise<void> } {
    const { size, label } = descriptor;
    const max = Math.min(limit.bytes, this.deviceLimit.bytes);
    if (size > max) {
      const name = max === limit.bytes ? limit.name : this.deviceLimit.name;
      throw new LimitError(
        `${label} needs a GPU buffer of ${formatBytes(size)}, over ${name} of ${formatBytes(max)}`,
        { ...details, expected: max, actual: size },
      );
    }
    const { result: buffer, error } = withErrorScope(this.#device, () =>
      this.#device.createBuffer(descriptor),
    );
    this.#live.set(buffer, size);
    this.#bytes += size;
    const created = error.then((failure) => {
      if (!failure) return;
      this.destroy(buffer);
      throw gpuFailure(failure, `${label}: creating a GPU buffer of ${formatBytes(size)}`, {
        ...details,
        actual: size,
      });
    });
    return { buffer, created };
  }

  /** Counts a buffer made elsewhere on this device (in its own error scope) as this tracker's. */
  adopt(buffer: GPUBuffer, size: number): void {
    if (this.#live.has(buffer)) return;
    this.#live.set(buffer, size);
    this.#bytes += size;
  }

  /** Destroys a buffer made by `create`; a second call is a no-op. */
  destroy(buffer: GPUBuffer): void {
    const writes = this.#writes.get(buffer);
    if (writes) {
      // Unmapping memory that another thread still writes into would free it under that write.
      void writes.then(() => this.destroy(buffer));
      return;
    }
    const size = this.#live.get(buffer);
    if (size === undefined) return;
    this.#live.delete(buffer);
    this.#bytes -= size;
    this.#destroyedBytes += size;
    buffer.destroy();
  }

  /**
   * Has the GPU free the memory of the buffers destroyed since the last call, now rather than later.
   * Dawn frees a destroyed buffer once work submitted after its destroy is done; with nothing
   * submitted, the next load's first copy waits while a whole table's memory is freed (about 50 ms
   * for 256 MiB on a software GPU). An empty submission marks that point while the loader is idle.
   */
  releaseDestroyed(): void {
    if (this.#destroyedBytes === 0 || !this.#submits) return;
    this.#destroyedBytes = 0;
    const encoder = this.#device.createCommandEncoder({ label: 'arrow-webgpu release destroyed buffers' });
    this.#device.queue.submit([encoder.finish()]);
  }

  /** Destroys every buffer still alive (device teardown). */
  destroyAll(): void {
    for (const buffer of [...this.#live.keys()]) this.destroy(buffer);
  }

  /**
   * Marks `buffer`'s mapped range as written by other threads (file reads) until `writes` settles:
   * `destroy` waits for it, as must anything that destroys the device (see `writing`).
   */
  writtenUntil(buffer: GPUBuffer, writes: Promise<unknown>): void {
    const settled = writes.then(
      () => {},
      () => {},
    );
    this.#writes.set(buffer, settled);
    void settled.then(() => {
      if (this.#writes.get(buffer) === settled) this.#writes.delete(buffer);
    });
  }

  /** Settles once no thread writes into a mapped range of these buffers; `null` when none does now. */
  writing(): Promise<void> | null {
    if (this.#writes.size === 0) return null;
    return Promise.all(this.#writes.values()).then(() => this.writing() ?? undefined);
  }
}
