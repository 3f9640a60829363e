/**
 * Most buffers a decode worker keeps for reuse: two batches in flight, each with its words and the
 * body the worker read itself, and some slack.
 */
const MAX_KEPT = 6;

/**
 * Most bytes those kept buffers may hold together (one buffer is kept whatever its size): an idle
 * worker does not hold on to the memory of a load of very large batches.
 */
export const MAX_KEPT_BYTES = 256 << 20;

/**
 * A decode worker's buffers for the GPU words it encodes and the bodies it reads: each goes to the
 * loader with its batch and comes back once uploaded, so that a warmed-up load allocates (and the loader
 * collects) none per batch.
 */
export class ScratchBuffers {
  readonly #free: ArrayBuffer[] = [];
  /** Buffers allocated, ever. */
  allocations = 0;

  /** A buffer of at least `bytes` bytes (contents undefined): the smallest kept one that fits, else a new one. */
  acquire(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const size = (this.#free[i] as ArrayBuffer).byteLength;
      if (size >= bytes && (best < 0 || size < (this.#free[best] as ArrayBuffer).byteLength)) best = i;
    }
    if (best >= 0) return this.#free.splice(best, 1)[0] as ArrayBuffer;
    this.allocations++;
    return new ArrayBuffer(bytes);
  }

  /** Bytes of the buffers kept now. */
  get keptBytes(): number {
    return this.#free.reduce((n, buffer) => n + buffer.byteLength, 0);
  }

  /** Buffers kept now. */
  get kept(): number {
    return this.#free.length;
  }

  /**
   * Keeps `buffer` for a later batch; past `MAX_KEPT` buffers or `MAX_KEPT_BYTES`, the smallest kept
   * ones are dropped (the largest is always kept).
   */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0) return; // detached: it moved elsewhere
    this.#free.push(buffer);
    this.#free.sort((a, b) => b.byteLength - a.byteLength);
    if (this.#free.length > MAX_KEPT) this.#free.length = MAX_KEPT;
    while (this.#free.length > 1 && this.keptBytes > MAX_KEPT_BYTES) this.#free.pop();
  }
}
