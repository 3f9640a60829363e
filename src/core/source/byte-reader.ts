import { type ByobBody, fillFrom, isByob } from './byob.js';
import type { BytePool } from './byte-pool.js';
import { messageSlab } from './byte-slab.js';
import { canGiveBack, isOwnedWhole } from './owned-buffers.js';

/** What is left of a chunk read to its end: no view of its buffer, which may be given back and moved. */
const NOTHING_LEFT = new Uint8Array(0);

/**
 * Reads exact byte counts from a stream of arbitrarily sized chunks.
 * A read that fits inside one chunk returns a view of it (no copy); only reads that straddle
 * chunks are joined into a new array. Over a source that reads into given buffers (`ByobBody`), a
 * pooled read that straddles chunks is read straight into its pooled buffer instead of being joined.
 */
export class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #byob: ByobBody | null;
  #chunk: Uint8Array = new Uint8Array(0);
  #done = false;
  /** Chunks with a way back read to their end since `takePassed` (see `passShared`). */
  #passed: ArrayBuffer[] = [];
  /** Bytes consumed by reads so far: the stream offset of the next read. */
  position = 0;
  /** Bytes pulled from the source so far. */
  received = 0;
  /** Reads that had to join chunks into a new buffer. */
  joins = 0;
  /** Pooled reads whose bytes were read straight into their buffer (past the chunk at hand). */
  directReads = 0;
  /** Pooled reads that took a whole chunk that is the load's own (`isOwnedWhole`): as good as pooled. */
  ownReads = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
    this.#byob = isByob(source) ? source : null;
  }

  /**
   * The next `length` bytes; fewer only when the source ended first (then the bytes that remained).
   * Pulls no more from the source than the read needs. A read that must be joined takes its buffer
   * from `pool` when one is given (the caller releases it).
   */
  async read(length: number, pool?: BytePool): Promise<Uint8Array> {
    if (this.#chunk.byteLength >= length) return this.#takeWithin(length, pool);
    if (this.#chunk.byteLength === 0) {
      if (!(await this.#pull())) return this.#take(0);
      if (this.#chunk.byteLength >= length) return this.#takeWithin(length, pool);
    }
    if (pool && this.#byob && !this.#done) return this.#readInto(length, pool, this.#byob);
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

  /**
   * `length` bytes into a buffer of `pool`: the chunk at hand copied, the rest read from the source
   * into the buffer. A short read (the source ended) gives its bytes back in an unpooled copy, and a
   * failed one gives its buffer back, so that the pool counts no buffer nobody holds.
   */
  async #readInto(length: number, pool: BytePool, byob: ByobBody): Promise<Uint8Array> {
    const target = pool.acquire(length);
    const head = this.#take(Math.min(length, this.#chunk.byteLength));
    target.set(head);
    let out: Uint8Array;
    try {
      out = await fillFrom((view) => byob.readInto(view), target, head.byteLength);
    } catch (error) {
      this.#done = true;
      pool.release(target);
      throw error;
    }
    const read = out.byteLength - head.byteLength;
    this.received += read;
    this.position += read;
    if (read === 0 || out.byteLength < length) this.#done = true;
    if (out.byteLength === length) {
      this.directReads++;
      return out;
    }
    const short = out.slice();
    pool.release(out);
    return short;
  }

  /**
   * The chunks with a way back that reads have moved past since the last call, but for one a read
   * returned whole (that view is the chunk: whoever took it gives it back). The views handed out of the
   * others are the caller's to hold or pin before it passes them on (`passShared`).
   */
  takePassed(): ArrayBuffer[] {
    const passed = this.#passed;
    if (passed.length > 0) this.#passed = [];
    return passed;
  }

  /** Whether `skip` can move past bytes without reading them (the source can skip). */
  get canSkip(): boolean {
    return this.#byob?.skip !== undefined && !this.#done;
  }

  /**
   * Moves past the next `length` bytes: those of the chunk at hand, then the rest skipped at the
   * source (see `ByobBody.skip`); the bytes moved past, fewer only at the end of the source.
   */
  async skip(length: number): Promise<number> {
    const head = this.#take(Math.min(length, this.#chunk.byteLength)).byteLength;
    const skip = this.#byob?.skip;
    if (head === length || !skip || this.#done) return head;
    let skipped: number;
    try {
      skipped = await skip.call(this.#byob, length - head);
    } catch (error) {
      this.#done = true;
      throw error;
    }
    this.received += skipped;
    this.position += skipped;
    if (skipped < length - head) this.#done = true;
    return head + skipped;
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

  /** A read within the chunk at hand; a pooled one that takes a whole chunk of the load's own is counted. */
  #takeWithin(length: number, pool: BytePool | undefined): Uint8Array {
    const view = this.#take(length, true);
    if (!pool || length === 0 || !isOwnedWhole(view)) return view;
    this.ownReads++;
    return pool.adopt(view);
  }

  /** The next `length` bytes of the chunk at hand; `returned`: the view goes to the caller as it is. */
  #take(length: number, returned = false): Uint8Array {
    const chunk = this.#chunk;
    const head = chunk.subarray(0, length);
    if (length < chunk.byteLength) this.#chunk = chunk.subarray(length);
    else {
      this.#chunk = NOTHING_LEFT;
      const buffer = chunk.buffer as ArrayBuffer;
      if (head.byteLength > 0 && !(returned && isOwnedWhole(head)) && canGiveBack(buffer))
        this.#passed.push(buffer);
    }
    this.position += head.byteLength;
    return head;
  }
}

function join(parts: Uint8Array[], total: number, pool?: BytePool): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = pool ? pool.acquire(total) : messageSlab.take(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
