import type { BytePool } from '../source/byte-pool.js';
import { ByteReader } from '../source/byte-reader.js';

/**
 * A `ByteReader` that can take bytes back: the framer reads a stream's preamble, or a file's footer
 * where a message was expected, before it knows what they are, and hands them back to be read again.
 */
export class PushBackReader {
  readonly #reader: ByteReader;
  #pending: Uint8Array | null = null;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#reader = new ByteReader(source);
  }

  /** Offset in the source of the next byte `read` returns. */
  get offset(): number {
    return this.#reader.position - (this.#pending?.byteLength ?? 0);
  }

  /** Offset in the source of the next byte the underlying reader returns (pushed-back bytes come before). */
  get position(): number {
    return this.#reader.position;
  }

  /** Makes `bytes`, just read, the next ones `read` returns (before any bytes pushed back earlier). */
  pushBack(bytes: Uint8Array): void {
    const pending = this.#pending;
    if (pending === null || pending.byteLength === 0) {
      // A copy: the chunk the bytes lie in may go back to the read worker before they are read again.
      this.#pending = new Uint8Array(bytes); // not `slice`: a Node `Buffer`'s is a view
      return;
    }
    const joined = new Uint8Array(bytes.byteLength + pending.byteLength);
    joined.set(bytes);
    joined.set(pending, bytes.byteLength);
    this.#pending = joined;
  }

  /** Takes the pushed-back bytes (empty when none): reads after this come straight from the source. */
  takePushedBack(): Uint8Array {
    const pending = this.#pending ?? new Uint8Array(0);
    this.#pending = null;
    return pending;
  }

  /** The next `length` bytes; fewer only when the source ended first. */
  async read(length: number): Promise<Uint8Array> {
    const pending = this.#pending;
    if (pending === null) return this.#reader.read(length);
    this.#pending = null;
    if (pending.byteLength >= length) {
      if (pending.byteLength > length) this.#pending = pending.subarray(length);
      return pending.subarray(0, length);
    }
    const rest = await this.#reader.read(length - pending.byteLength);
    const out = new Uint8Array(pending.byteLength + rest.byteLength);
    out.set(pending);
    out.set(rest, pending.byteLength);
    return out;
  }

  /**
   * Like `read`, but a read that straddles chunks is joined (or, from a source that can, read straight)
   * into a buffer of `pool`; `pooled` says
   * whether it was (the caller releases it). With bytes pushed back it reads as `read` does.
   */
  async readPooled(length: number, pool: BytePool | null): Promise<{ bytes: Uint8Array; pooled: boolean }> {
    if (pool === null || this.#pending !== null) return { bytes: await this.read(length), pooled: false };
    const reader = this.#reader;
    const before = reader.joins + reader.directReads + reader.ownReads;
    const bytes = await reader.read(length, pool);
    return { bytes, pooled: reader.joins + reader.directReads + reader.ownReads > before };
  }

  /**
   * Moves past the next `length` bytes without reading them, when the source can (and no bytes are
   * pushed back): `false` when it cannot, with nothing moved. Resolves with the bytes moved past
   * otherwise, fewer only at the end of the source.
   */
  async trySkip(length: number): Promise<number | false> {
    if (this.#pending !== null || !this.#reader.canSkip) return false;
    return this.#reader.skip(length);
  }

  /** The chunks the reader has moved past since the last call (see `ByteReader.takePassed`). */
  takePassed(): ArrayBuffer[] {
    return this.#reader.takePassed();
  }

  /** Stops reading the source. */
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}
