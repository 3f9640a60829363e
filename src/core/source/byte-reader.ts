import type { BytePool } from './byte-pool.js';

/**
 * Reads exact byte counts from a stream of arbitrarily sized chunks.
 * A read that fits inside one chunk returns a view of it (no copy); only reads that straddle
 * chunks are joined into a new array.
 */
export class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #done = false;
  /** Bytes consumed by reads so far: the stream offset of the next read. */
  position = 0;
  /** Bytes pulled from the source so far. */
  received = 0;
  /** Reads that had to join chunks into a new buffer. */
  joins = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /**
   * The next `length` bytes; fewer only when the source ended first (then the bytes that remained).
   * Pulls no more from the source than the read needs. A read that must be joined takes its buffer
   * from `pool` when one is given (the caller releases it).
   */
  async read(length: number, pool?: BytePool): Promise<Uint8Array> {
    if (this.#chunk.byteLength >= length) return this.#take(length);
    if (this.#chunk.byteLength === 0) {
      if (!(await this.#pull())) return this.#take(0);
      if (this.#chunk.byteLength >= length) return this.#take(length);
    }
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < length) {
      if (this.#chunk.byteLength === 0 && !(await this.#pull())) break;
      const part = this.#take(Math.min(length - have, this.#chunk.byteLength));
      parts.push(part);
      have += part.byteLength;
    }
    if (parts.length > 1) this.joins++;
    return join(parts, have, pool);
  }

  /** Stops the source early (e.g. on cancellation or error). */
  async cancel(): Promise<void> {
    this.#chunk = new Uint8Array(0);
    if (!this.#done) {
      this.#done = true;
      await this.#source.return?.();
    }
  }

  async #pull(): Promise<boolean> {
    while (!this.#done) {
      const next = await this.#source.next();
      if (next.done) {
        this.#done = true;
        return false;
      }
      if (next.value.byteLength > 0) {
        this.#chunk = next.value;
        this.received += next.value.byteLength;
        return true;
      }
    }
    return false;
  }

  #take(length: number): Uint8Array {
    const head = this.#chunk.subarray(0, length);
    this.#chunk = this.#chunk.subarray(length);
    this.position += head.byteLength;
    return head;
  }
}

function join(parts: Uint8Array[], total: number, pool?: BytePool): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = pool ? pool.acquire(total) : new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
