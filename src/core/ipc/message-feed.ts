const EMPTY = new Uint8Array(0);

/**
 * Bytes for apache-arrow's synchronous stream reader, fed a message at a time. Each part is followed by
 * an empty chunk: the reader's byte queue pulls one more chunk whenever a read takes exactly the bytes
 * it holds, and an empty chunk answers that pull without the next message. A pull past what was fed
 * ends the reader's stream: the framer has checked every length, so it happens only at the end.
 */
export class MessageFeed implements Iterable<Uint8Array> {
  readonly #parts: Uint8Array[] = [];

  /** Feeds one message: its prefix (continuation marker, metadata length, metadata) and its body. */
  push(prefix: Uint8Array, body: Uint8Array): void {
    this.#parts.push(prefix, EMPTY);
    if (body.byteLength > 0) this.#parts.push(body, EMPTY);
  }

  /** Whether bytes fed have not been read yet. */
  get pending(): boolean {
    return this.#parts.some((part) => part.byteLength > 0);
  }

  [Symbol.iterator](): Iterator<Uint8Array> {
    return {
      next: () => {
        const part = this.#parts.shift();
        return part ? { done: false, value: part } : { done: true, value: undefined };
      },
    };
  }
}
