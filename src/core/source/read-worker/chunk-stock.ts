/** Bytes of given-back buffers a read worker keeps at most. */
export const MAX_STOCK_BYTES = 64 << 20;

/**
 * The byte length of the buffer a chunk of `size` bytes is made in: `size` rounded up to a sixteenth of
 * the power of two above it (at most an eighth more), so that bodies of about one size (a table's
 * batches, whose text and bitmaps vary a little) share buffers. Powers of two stay as they are.
 */
export function stockSize(size: number): number {
  const step = 2 ** Math.max(0, Math.ceil(Math.log2(Math.max(1, size))) - 4);
  return Math.ceil(size / step) * step;
}

/** A chunk of `size` bytes, at the start of a new buffer of `stockSize(size)` (what the stock keeps). */
export function newChunk(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(stockSize(size)), 0, size);
}

/**
 * Buffers the loader gave back once done with the chunks they held, kept by size for the next chunks
 * of that size. Memory written for the first time costs several times what memory written before does
 * (the pages are mapped as they are first touched): on an H100 host the read worker copied bodies into
 * new buffers at about 1.1 GB/s, while reading into a buffer it reuses ran at about 8 GB/s. A table's
 * large bodies are mostly of about one size, so each is read into the buffer of one before it (buffers
 * are kept by `stockSize`); chunks of small messages are all `READ_CHUNK_BYTES`.
 */
export class ChunkStock {
  readonly #free = new Map<number, ArrayBuffer[]>();
  /** Buffer sizes asked for since the last `clear`: a buffer of another size would never be taken. */
  readonly #asked = new Set<number>();
  #bytes = 0;

  constructor(readonly maxBytes = MAX_STOCK_BYTES) {}

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps `buffers` (moved here) of the sizes `take` asked for (`stockSize`s), while they fit in
   * `maxBytes`; the others are dropped.
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

  /** A chunk of `size` bytes in a kept buffer of `stockSize(size)` (its contents left over), or `null` when there is none. */
  take(size: number): Uint8Array | null {
    const bytes = stockSize(size);
    this.#asked.add(bytes);
    const buffer = this.#free.get(bytes)?.pop();
    if (!buffer) return null;
    this.#bytes -= bytes;
    return new Uint8Array(buffer, 0, size);
  }

  /** Drops every buffer kept. */
  clear(): void {
    this.#free.clear();
    this.#asked.clear();
    this.#bytes = 0;
  }
}
