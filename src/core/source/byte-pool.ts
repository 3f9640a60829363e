import { giveBackOwned } from './owned-buffers.js';

/**
 * Reusable byte buffers for IPC message bodies: those that straddle network chunks, and the copies sent
 * to decode workers. A buffer is released once its batch has been uploaded, so a warmed-up load
 * allocates no message memory per batch.
 */
export class BytePool {
  readonly #free = new Map<number, ArrayBuffer[]>();
  readonly #maxPooledBytes: number;
  #pooledBytes = 0;
  /** Buffers handed out and not yet released. */
  inUse = 0;
  /** Buffers allocated, ever (a flat count after warm-up means no allocation per batch). */
  allocations = 0;

  constructor(maxPooledBytes = 256 << 20) {
    this.#maxPooledBytes = maxPooledBytes;
  }

  /** A view of `length` bytes (contents undefined) on a pooled or new buffer. */
  acquire(length: number): Uint8Array {
    const size = sizeClass(length);
    let buffer = this.#free.get(size)?.pop();
    if (buffer) this.#pooledBytes -= size;
    else {
      buffer = new ArrayBuffer(size);
      this.allocations++;
    }
    this.inUse++;
    return new Uint8Array(buffer, 0, length);
  }

  /**
   * Counts `view`, a whole chunk that is the load's own taken as a body, as handed out: it is released
   * here as an acquired buffer is (and goes back where it came from).
   */
  adopt(view: Uint8Array): Uint8Array {
    this.inUse++;
    return view;
  }

  /**
   * Returns a view's buffer to the pool, or a whole chunk of the read worker's back to it; the view must
   * not be used afterwards.
   */
  release(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    const size = buffer.byteLength;
    this.inUse--;
    if (giveBackOwned(view)) return;
    if (size !== sizeClass(size) || this.#pooledBytes + size > this.#maxPooledBytes) return;
    const list = this.#free.get(size) ?? [];
    list.push(buffer);
    this.#free.set(size, list);
    this.#pooledBytes += size;
  }
}

/** Sizes step by an eighth of a power of two (≤ 12.5% waste), from 64 KiB, so that similar batches share buffers. */
function sizeClass(length: number): number {
  const step = 2 ** Math.max(13, Math.ceil(Math.log2(Math.max(1, length))) - 3);
  return Math.max(1 << 16, Math.ceil(length / step) * step);
}
