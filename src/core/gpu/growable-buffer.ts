import { alignUp } from '../columns/type-plan.js';
import type { ErrorDetails } from '../errors.js';
import type { BufferTracker } from './buffer-tracker.js';
import type { GpuErrorWatch } from './error-scope.js';

/** Usage of every column buffer: bindable as storage or vertex data, copyable both ways. */
export const COLUMN_USAGE = (): GPUBufferUsageFlags =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/**
 * A GPU buffer that grows as rows arrive. Growing makes a larger buffer, copies the bytes written so
 * far on the GPU, and destroys the old one; callers submit pending writes to the old buffer first.
 */
export class GrowableBuffer {
  readonly #device: GPUDevice;
  readonly #tracker: BufferTracker;
  readonly label: string;
  readonly #details: ErrorDetails;
  readonly #watch: GpuErrorWatch;
  #buffer: GPUBuffer | null = null;

  /** `label` and `details` name the buffer in errors; the copy that grows it reports into `watch`. */
  constructor(
    device: GPUDevice,
    tracker: BufferTracker,
    watch: GpuErrorWatch,
    label: string,
    details: ErrorDetails = {},
  ) {
    this.#device = device;
    this.#tracker = tracker;
    this.#watch = watch;
    this.label = label;
    this.#details = details;
  }

  /** The current buffer (throws before the first `reserve`). */
  get buffer(): GPUBuffer {
    if (!this.#buffer) throw new Error(`${this.label} has no GPU buffer yet`);
    return this.#buffer;
  }

  /** The current buffer, or `null` before the first `reserve`. */
  get current(): GPUBuffer | null {
    return this.#buffer;
  }

  /** Bytes the current buffer holds. */
  get capacity(): number {
    return this.#buffer?.size ?? 0;
  }

  /**
   * Makes room for `bytes`, keeping the first `usedBytes`. A new buffer takes `preferredBytes` when that
   * covers `bytes`, else doubles, within `maxBytes` and the tracker's column limit (`LIMIT_EXCEEDED`
   * beyond it).
   */
  async reserve(
    bytes: number,
    usedBytes: number,
    preferredBytes: number,
    maxBytes = Infinity,
  ): Promise<void> {
    if (bytes <= this.capacity) return;
    const limit = this.#tracker.columnLimit;
    // `maxBytes` caps a chunk of a chunked column: it never needs more than its rows.
    const max = Math.min(limit.bytes, maxBytes);
    // A preference that covers the need is taken as it is (an estimate of the final size); else double.
    const wanted = alignUp(
      Math.max(preferredBytes >= bytes ? preferredBytes : Math.max(bytes, this.capacity * 2), 4),
    );
    const size = bytes <= max ? Math.min(wanted, Math.floor(max / 4) * 4) : alignUp(bytes);
    const next = await this.#tracker.create(
      { label: this.label, size, usage: COLUMN_USAGE() },
      { limit, details: this.#details },
    );
    const old = this.#buffer;
    if (old && usedBytes > 0) {
      this.#watch.run(`growing ${this.label}`, this.#details, () => {
        const encoder = this.#device.createCommandEncoder({ label: `grow ${this.label}` });
        encoder.copyBufferToBuffer(old, 0, next, 0, alignUp(usedBytes));
        this.#device.queue.submit([encoder.finish()]);
      });
    }
    if (old) this.#tracker.destroy(old);
    this.#buffer = next;
  }

  /** Destroys the buffer. */
  destroy(): void {
    if (this.#buffer) this.#tracker.destroy(this.#buffer);
    this.#buffer = null;
  }
}
