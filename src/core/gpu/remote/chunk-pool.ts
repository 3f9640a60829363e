/**
 * Transfer buffers kept between the loads of a device on another thread, so that a load fills chunks
 * whose memory is already paged in: a new 8 MiB `ArrayBuffer` costs its first fill about ten times what
 * a reused one's does (page faults and zeroing; 3.9 against 0.4 ms in Node here), twice per load.
 * Holds at most `max` buffers of `chunkBytes`; `clear` lets them go (an idle loader keeps none), and
 * those still coming back from loads that ended, until the next load takes one.
 */
export class ChunkPool {
  readonly #free: ArrayBuffer[] = [];
  /** Off from `clear` until a load takes again: chunks of loads ended before it are not kept. */
  #keeping = true;

  constructor(
    readonly chunkBytes: number,
    readonly max: number,
  ) {}

  /** Buffers held. */
  get size(): number {
    return this.#free.length;
  }

  /** A kept buffer, if any. */
  take(): ArrayBuffer | undefined {
    this.#keeping = true;
    return this.#free.pop();
  }

  /** Keeps `buffer` for a later load, unless it is not a whole chunk (detached, foreign) or the pool is full. */
  give(buffer: ArrayBuffer): void {
    if (!this.#keeping || buffer.byteLength !== this.chunkBytes || this.#free.length >= this.max) return;
    this.#free.push(buffer);
  }

  /** Lets every kept buffer go, and those of loads that ended before, as they come back. */
  clear(): void {
    this.#free.length = 0;
    this.#keeping = false;
  }
}
