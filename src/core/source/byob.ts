/**
 * A byte source that can also read its next bytes into a buffer its reader gives it (a BYOB read), so
 * that a message body of known length lands in its final buffer with no join copy and no per-chunk
 * garbage. Chunks from the iterator and `readInto` come from one sequence of bytes, in call order.
 */
export interface ByobBody extends AsyncIterable<Uint8Array> {
  /**
   * Reads the next bytes into `target` from its start, at most its length: resolves with a view of the
   * bytes read, at `target`'s offset, empty only at the end of the source. The view may lie on a new
   * `ArrayBuffer` (a byte stream transfers the one it was given): `target` must not be used afterwards.
   */
  readInto(target: Uint8Array): Promise<Uint8Array>;
  /**
   * Moves past the next `length` bytes without reading them (a body a decode worker reads itself, at
   * its position); resolves with the bytes skipped, fewer only at the end of the source. Only sources
   * that can read at any position have it.
   */
  skip?(length: number): Promise<number>;
  /** `false`: `readInto` only copies chunks it pulled anyway (a wrapper over a source that cannot). */
  readonly byob?: boolean;
}

/** Whether `body` can read into a given buffer. */
export function isByob(body: AsyncIterable<Uint8Array>): body is ByobBody {
  const candidate = body as Partial<ByobBody>;
  return typeof candidate.readInto === 'function' && candidate.byob !== false;
}

/**
 * Fills `target` from `read` (a `readInto`) until it is full or the source ends: the view of the bytes
 * read, on the buffer the last read left them in (shorter than `target` only at the end of the source).
 */
export async function fillFrom(
  read: (target: Uint8Array) => Promise<Uint8Array>,
  target: Uint8Array,
  filled = 0,
): Promise<Uint8Array> {
  let buffer = target.buffer as ArrayBuffer;
  const base = target.byteOffset;
  const length = target.byteLength;
  while (filled < length) {
    const got = await read(new Uint8Array(buffer, base + filled, length - filled));
    // At the end a stream gives its buffer back as an empty view (a cancelled one, none at all).
    if (got.buffer.byteLength > 0) buffer = got.buffer as ArrayBuffer;
    if (got.byteLength === 0) break;
    filled += got.byteLength;
  }
  return new Uint8Array(buffer, base, filled);
}
