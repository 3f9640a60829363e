import { type ByobBody, fillFrom, isByob } from './byob.js';
import { MarkerTail } from './marker-tail.js';
import { giveBackBuffer } from './owned-buffers.js';

/**
 * How far a read-ahead runs ahead of a source that reads into given buffers: bodies go straight into
 * their own buffers, so the read-ahead only covers message headers and small messages, and what it
 * holds when a body starts is the most of that body that is copied.
 */
export const BYOB_READ_AHEAD_BYTES = 1 << 20;

/**
 * How far it runs ahead once bodies are skipped: the next message's header, and no more of the body
 * after it, which the next skip would drop unread.
 */
export const SKIPPING_READ_AHEAD_BYTES = 64 << 10;

/**
 * Pulls a byte source eagerly into a FIFO bounded by bytes, so that the network keeps flowing while
 * decode and upload are busy. A browser stops reading the socket as soon as its small body buffer
 * is full, so without this the download pauses every time the GPU path does. Over a source that reads
 * into given buffers (`ByobBody`) it is one too: `readInto` hands over what it holds, then reads the
 * rest straight into the caller's buffer while the eager pulls wait.
 */
export class ReadAhead implements ByobBody {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #byob: ByobBody | null;
  readonly #maxBytes: () => number;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #done = false;
  #error: { reason: unknown } | null = null;
  #wakeConsumer: (() => void) | null = null;
  #wakeProducer: (() => void) | null = null;
  #cancelled = false;
  /** The eager pull under way (settles once its chunk is queued). */
  #pulling: Promise<boolean> | null = null;
  /** `readInto` calls under way: the eager pulls wait for them. */
  #direct = 0;
  /** Bytes pulled from the source so far (so the source offset just past the last byte read). */
  received = 0;
  /** Most bytes held at once. */
  peakBytes = 0;
  /** Bodies were skipped: the read-ahead then holds at most `SKIPPING_READ_AHEAD_BYTES`. */
  #skipping = false;
  /** Bytes read straight into callers' buffers. */
  directBytes = 0;
  /**
   * The last bytes pulled. Once they end with an end-of-stream marker, the pump reads no further until a
   * consumer runs out of bytes: a stream's messages end there, and the load closes the request instead
   * of reading it to its end, which would hold back the last rows (see `MarkerTail`).
   */
  readonly #tail = new MarkerTail();
  /** A consumer waits for a chunk that none holds. */
  #starving = false;

  /** `maxBytes` may be a function: a budget shared with what lies downstream, read before each pull. */
  constructor(source: AsyncIterable<Uint8Array>, maxBytes: number | (() => number)) {
    this.#source = source[Symbol.asyncIterator]();
    this.#byob = isByob(source) ? source : null;
    const max = typeof maxBytes === 'number' ? () => maxBytes : maxBytes;
    const byobMax = () => (this.#skipping ? SKIPPING_READ_AHEAD_BYTES : BYOB_READ_AHEAD_BYTES);
    this.#maxBytes = this.#byob ? () => Math.min(byobMax(), max()) : max;
    const skipping = this.#byob;
    if (skipping?.skip) this.skip = (length) => this.#skip(length, skipping);
    void this.#pump();
  }

  /** Present when the source can skip: drops what is read ahead of the skipped bytes, then skips the rest there. */
  skip?: (length: number) => Promise<number>;

  /** Whether `readInto` reads straight into the caller's buffer (else it only hands over chunks). */
  get byob(): boolean {
    return this.#byob !== null;
  }

  /** Stops pulling and releases the source. */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#wakeProducer?.();
    this.#wakeConsumer?.();
    await this.#source.return?.();
  }

  /**
   * The next bytes into `target` (see `ByobBody`): first those already read ahead (copied), then, from
   * a source that can, straight from the source until `target` is full or the source ends (the eager
   * pulls wait meanwhile). Without one it waits for the next chunk and copies what it holds.
   */
  async readInto(target: Uint8Array): Promise<Uint8Array> {
    this.#direct++;
    try {
      await this.#pulling; // a pull under way holds the bytes that come first
      if (!this.#byob) await this.#waitForChunk();
      const copied = this.#drainInto(target);
      if (this.#byob === null || copied === target.byteLength) return target.subarray(0, copied);
      if (this.#error) throw this.#error.reason;
      if (this.#done || this.#cancelled) return target.subarray(0, copied);
      const byob = this.#byob;
      const out = await fillFrom((view) => byob.readInto(view), target, copied);
      const direct = out.byteLength - copied;
      this.#tail.push(out.subarray(copied));
      this.received += direct;
      this.directBytes += direct;
      if (out.byteLength < target.byteLength) this.#done = true;
      return out;
    } finally {
      this.#direct--;
      this.#wakeProducer?.();
    }
  }

  async #skip(length: number, source: ByobBody): Promise<number> {
    this.#direct++;
    this.#skipping = true;
    try {
      await this.#pulling; // a pull under way holds the bytes that come first
      let dropped = 0;
      while (dropped < length && this.#chunks.length > 0) {
        const chunk = this.#chunks[0] as Uint8Array;
        const n = Math.min(chunk.byteLength, length - dropped);
        dropped += n;
        this.#buffered -= n;
        if (n === chunk.byteLength) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(n);
      }
      if (dropped === length) return dropped;
      // A failed pull is the source's error, not an early end: checked before `#done`, which it also set.
      if (this.#error) throw this.#error.reason;
      if (this.#done || this.#cancelled) return dropped;
      const skipped = await (source.skip as (length: number) => Promise<number>)(length - dropped);
      if (skipped > 0) this.#tail.reset(); // bytes never seen: no marker is known to end them
      this.received += skipped;
      if (skipped < length - dropped) this.#done = true;
      return dropped + skipped;
    } finally {
      this.#direct--;
      this.#wakeProducer?.();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#buffered -= chunk.byteLength;
        this.#wakeProducer?.();
        yield chunk;
        continue;
      }
      if (this.#error) throw this.#error.reason;
      if (this.#done || this.#cancelled) return;
      await this.#waitForChunk();
    }
  }

  /** Waits until a chunk is held, the source ended or failed, or the read-ahead was cancelled. */
  async #waitForChunk(): Promise<void> {
    while (this.#chunks.length === 0 && !this.#error && !this.#done && !this.#cancelled) {
      this.#starving = true;
      this.#wakeProducer?.();
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
      this.#wakeConsumer = null;
    }
    this.#starving = false;
  }

  /**
   * Copies held chunks into `target` while they fit (a chunk that does not is split); bytes copied. A
   * chunk copied to its end goes back where it came from, if it has a way back: no view of it was
   * handed out (held chunks reach a reader whole, or not at all).
   */
  #drainInto(target: Uint8Array): number {
    let at = 0;
    while (at < target.byteLength) {
      const chunk = this.#chunks[0];
      if (!chunk) break;
      const n = Math.min(chunk.byteLength, target.byteLength - at);
      target.set(chunk.subarray(0, n), at);
      at += n;
      this.#buffered -= n;
      if (n < chunk.byteLength) {
        this.#chunks[0] = chunk.subarray(n);
        continue;
      }
      this.#chunks.shift();
      giveBackBuffer(chunk.buffer as ArrayBuffer);
    }
    return at;
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        // Hold at most maxBytes, but always at least one chunk, whatever its size; none while a
        // caller reads into its own buffer (unless it waits for a chunk: a source without `readInto`).
        while (
          ((this.#buffered >= this.#maxBytes() && this.#buffered > 0) ||
            (this.#direct > 0 && this.#byob !== null) ||
            (this.#tail.atMarker && !this.#starving)) &&
          !this.#cancelled
        ) {
          await new Promise<void>((resolve) => {
            this.#wakeProducer = resolve;
          });
          this.#wakeProducer = null;
        }
        if (this.#cancelled) return;
        this.#pulling = this.#pull();
        if (!(await this.#pulling)) break;
      }
    } catch (reason) {
      this.#error = { reason };
    } finally {
      this.#pulling = null;
    }
    this.#done = true;
    this.#wakeConsumer?.();
  }

  /** Pulls one chunk into the FIFO; `false` at the end of the source (or once cancelled). */
  async #pull(): Promise<boolean> {
    const next = await this.#source.next();
    if (next.done || this.#cancelled) return false;
    this.#chunks.push(next.value);
    this.#tail.push(next.value);
    this.#buffered += next.value.byteLength;
    this.received += next.value.byteLength;
    this.peakBytes = Math.max(this.peakBytes, this.#buffered);
    this.#wakeConsumer?.();
    return true;
  }
}
