/** Bytes of given-back buffers a read worker keeps at most. */
export const MAX_STOCK_BYTES = 64 << 20;

/**
 * Buffers the loader gave back once done with the chunks they held, kept by size for the next chunks
 * of that size. Memory written for the first time costs several times what memory written before does
 * (the pages are mapped as they are first touched): on an H100 host the read worker copied bodies into
 * new buffers at about 1.1 GB/s, while reading into a buffer it reuses ran at about 8 GB/s. A table's
 * large bodies are mostly of one size, so each is read into the buffer of one before it; chunks of
 * small messages are all `READ_CHUNK_BYTES`.
 */
export class ChunkStock {
  readonly #free = new Map<number, ArrayBuffer[]>();
  /** Sizes asked for since the last `clear`: a buffer of another size would never be taken. */
  readonly #asked = new Set<number>();
  #bytes = 0;

  constructor(readonly maxBytes = MAX_STOCK_BYTES) {}

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps `buffers` (moved here) of the sizes `take` was asked for, while they fit in `maxBytes`; the
   * others are dropped.
   */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      const size = buffer.byteLength;
      if (!this.#asked.has(size) || this.#bytes + size > this.maxBytes) continue;
      const list = this.#free.get(size) ?? [];
      list.push(buffer);
      this.#free.set(size, list);
      this.#bytes += size;
    }
  }

  /** A kept buffer of exactly `size` bytes (its contents left over), or `null` when there is none. */
  take(size: number): Uint8Array | null {
    this.#asked.add(size);
    const buffer = this.#free.get(size)?.pop();
    if (!buffer) return null;
    this.#bytes -= size;
    return new Uint8Array(buffer);
  }

  /** Drops every buffer kept. */
  clear(): void {
    this.#free.clear();
    this.#asked.clear();
    this.#bytes = 0;
  }
}
