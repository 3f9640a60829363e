import { alignUp } from '../../columns/type-plan.js';
import type { GpuErrorWatch } from '../error-scope.js';
import { MAX_STAGING_BYTES, type StagedCopy, type StagingRing, type StagingSlot } from './staging-ring.js';
import type { Fill, UploadTransport } from './transport.js';

/**
 * Fills mapped staging buffers from a shared `StagingRing`. Consecutive batches coalesce into one slot
 * until it is full or the uploader flushes, so small batches do not cost one submit each.
 */
export class StagingTransport implements UploadTransport {
  readonly maxChunkBytes = MAX_STAGING_BYTES;
  readonly writesGpu = false;
  readonly #ring: StagingRing;
  readonly #device: GPUDevice;
  readonly #signal: AbortSignal | undefined;
  readonly #watch: GpuErrorWatch;
  #slot: StagingSlot | null = null;
  #used = 0;
  #copies: StagedCopy[] = [];
  #pending: Promise<void>[] = [];
  #maxInFlight = 0;
  #waitMs = 0;
  /** No slot was asked for yet: the first batch takes any slot that fits it (see `StagingRing.prepare`). */
  #first = true;

  /** The copies of each submission report their GPU errors into `watch`. */
  constructor(device: GPUDevice, ring: StagingRing, watch: GpuErrorWatch, signal?: AbortSignal) {
    this.#device = device;
    this.#ring = ring;
    this.#watch = watch;
    this.#signal = signal;
  }

  get inFlight(): number {
    return this.#ring.inFlight;
  }

  get flushWouldStall(): boolean {
    return this.#ring.freeSlots === 0;
  }

  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  get pendingBytes(): number {
    return this.#copies.length > 0 ? this.#used : 0;
  }

  get waitMs(): number {
    return this.#waitMs;
  }

  async begin(bytes: number): Promise<void> {
    if (this.#slot && this.#used + bytes <= this.#slot.mapped.byteLength) return;
    this.flush();
    const started = performance.now();
    const first = this.#first;
    this.#first = false;
    this.#slot = await this.#ring.acquire(bytes, this.#signal, first);
    this.#waitMs += performance.now() - started;
    this.#used = 0;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#ring.inFlight);
  }

  write(dst: GPUBuffer, dstOffset: number, byteLength: number, fill: Fill): void {
    const slot = this.#slot as StagingSlot;
    const srcOffset = this.#used;
    fill(slot.mapped, srcOffset);
    this.#used = alignUp(srcOffset + byteLength);
    const last = this.#copies[this.#copies.length - 1];
    if (
      last &&
      last.dst === dst &&
      last.srcOffset + last.size === srcOffset &&
      last.dstOffset + last.size === dstOffset
    ) {
      last.size += byteLength; // contiguous in both buffers: one copy command
    } else {
      this.#copies.push({ dst, dstOffset, srcOffset, size: byteLength });
    }
  }

  writeBytes(dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void {
    this.write(dst, dstOffset, bytes.byteLength, (target, offset) => {
      new Uint8Array(target, offset, bytes.byteLength).set(bytes);
    });
  }

  flush(): void {
    const slot = this.#slot;
    if (!slot) return;
    this.#slot = null;
    if (this.#copies.length === 0) {
      this.#ring.release(slot);
      return;
    }
    const copies = this.#copies;
    const done = this.#watch.run('copying staged column bytes', {}, () => this.#ring.submit(slot, copies));
    done.catch(() => {}); // surfaced by finish() or the next acquire
    this.#pending.push(done);
    if (this.#pending.length > this.#ring.size) this.#pending.shift();
    this.#copies = [];
  }

  async finish(): Promise<void> {
    this.flush();
    const started = performance.now();
    await Promise.all(this.#pending);
    await this.#device.queue.onSubmittedWorkDone();
    this.#waitMs += performance.now() - started;
  }

  release(): void {
    if (this.#slot) this.#ring.release(this.#slot);
    this.#slot = null;
    this.#copies = [];
  }
}
