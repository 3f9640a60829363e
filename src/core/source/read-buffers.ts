import { markOwned } from './owned-buffers.js';

/** Bytes one chunk read of a byte stream asks for (bodies are read into their own buffers). */
export const READ_BUFFER_BYTES = 1 << 20;

/** Spare buffers kept at most: enough for the chunks a load's queue and read-ahead hold at once. */
const MAX_SPARE = 8;

/**
 * The buffers a byte stream's chunks are read into (BYOB reads), each given back once the framer is
 * done with every message in it (`source/shared-chunks.ts`, as the read worker's chunks are) and read
 * into again. Without it every read made a new 1 MiB buffer, garbage once its messages were uploaded: a
 * worker holding 48–52 MiB of them at the peak of a 256 MiB load of small batches, against 30–41 MiB
 * for a 64 MiB one.
 */
export class ReadBuffers {
  readonly #free: ArrayBuffer[] = [];
  /** Buffers made new rather than reused. */
  made = 0;

  constructor(readonly bytes = READ_BUFFER_BYTES) {}

  /** A buffer to read the next chunk into, whole: one given back if there is one. */
  take(): Uint8Array {
    const kept = this.#free.pop();
    if (kept) return new Uint8Array(kept);
    this.made++;
    return new Uint8Array(this.bytes);
  }

  /** `chunk` was read into a buffer from `take` (from its start, or a few bytes in): it comes back here once done with. */
  own(chunk: Uint8Array): void {
    markOwned(chunk, (buffer) => this.#give(buffer));
  }

  #give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.bytes && this.#free.length < MAX_SPARE) this.#free.push(buffer);
  }
}
