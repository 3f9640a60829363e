/**
 * Pulls a byte source eagerly into a FIFO bounded by bytes, so that the network keeps flowing while
 * decode and upload are busy. A browser stops reading the socket as soon as its small body buffer
 * is full, so without this the download pauses every time the GPU path does.
 */
export class ReadAhead implements AsyncIterable<Uint8Array> {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #maxBytes: () => number;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #done = false;
  #error: { reason: unknown } | null = null;
  #wakeConsumer: (() => void) | null = null;
  #wakeProducer: (() => void) | null = null;
  #cancelled = false;
  /** Bytes pulled from the source so far. */
  received = 0;
  /** Most bytes held at once. */
  peakBytes = 0;

  /** `maxBytes` may be a function: a budget shared with what lies downstream, read before each pull. */
  constructor(source: AsyncIterable<Uint8Array>, maxBytes: number | (() => number)) {
    this.#source = source[Symbol.asyncIterator]();
    this.#maxBytes = typeof maxBytes === 'number' ? () => maxBytes : maxBytes;
    void this.#pump();
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
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
      this.#wakeConsumer = null;
    }
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        // Hold at most maxBytes, but always at least one chunk, whatever its size.
        while (this.#buffered >= this.#maxBytes() && !this.#cancelled) {
          await new Promise<void>((resolve) => {
            this.#wakeProducer = resolve;
          });
          this.#wakeProducer = null;
        }
        if (this.#cancelled) return;
        const next = await this.#source.next();
        if (next.done || this.#cancelled) break;
        this.#chunks.push(next.value);
        this.#buffered += next.value.byteLength;
        this.received += next.value.byteLength;
        this.peakBytes = Math.max(this.peakBytes, this.#buffered);
        this.#wakeConsumer?.();
      }
    } catch (reason) {
      this.#error = { reason };
    }
    this.#done = true;
    this.#wakeConsumer?.();
  }
}
