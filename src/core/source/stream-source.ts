import { ArgumentError, loadAborted, NetworkError } from '../errors.js';
import type { ByobBody } from './byob.js';
import type { ByteSource } from './byte-source.js';
import { ReadBuffers } from './read-buffers.js';
import { StallTimer } from './stall-timer.js';

/** How a stream is read: a stall limit, and the length announced for it (a Response's Content-Length). */
export interface StreamReadOptions {
  /** Fails with `NETWORK` when the stream yields no chunk for this many milliseconds. */
  timeoutMs?: number;
  bytesTotal?: number | null;
}

/** A `ReadableStream` of bytes as a byte source; it cannot be read from its end (no `readTail`). */
export function streamSource(
  stream: ReadableStream<unknown>,
  name: string,
  signal: AbortSignal,
  options: StreamReadOptions = {},
): ByteSource {
  return {
    body: readStream(stream, name, signal, options.timeoutMs),
    bytesTotal: options.bytesTotal ?? null,
  };
}

/**
 * The chunks of `stream`, as byte views; `name` names it in errors. A byte stream (a `fetch` body, a
 * Blob's stream) is read with a BYOB reader, and the result can then read into a given buffer too
 * (`readInto`, see `ByobBody`); any other stream with its default reader. The stream is locked at once,
 * so that it is released whatever happens next: aborting `signal` (a cancel, or the end of the load) or
 * a stall cancels it unless it was read to its end, even when no chunk was ever asked for. A stream that
 * errors fails with `NETWORK` (the bytes received in `byteOffset`), a chunk that is not bytes with
 * `INVALID_ARGUMENT`; either cancels the stream.
 */
export function readStream(
  stream: ReadableStream<unknown>,
  name: string,
  signal: AbortSignal,
  timeoutMs?: number,
  buffers = new ReadBuffers(),
): AsyncGenerator<Uint8Array> & Partial<ByobBody> {
  if (stream.locked) throw lockedStream(name);
  const byob = byobReader(stream);
  const reader = byob ?? stream.getReader();
  const stall = new StallTimer(timeoutMs);
  const state = { settled: false, received: 0 };
  const cancel = (reason: unknown) => {
    if (state.settled) return;
    state.settled = true;
    stall.disarm();
    reader.cancel(reason).catch(() => {});
  };
  const onAbort = () => cancel(signal.reason);
  const onStall = () => cancel(new Error(`no chunk for ${timeoutMs} ms`));
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  stall.signal.addEventListener('abort', onStall, { once: true });

  /**
   * One read, into `view` when the reader is a BYOB one: the bytes, and whether the stream ended (a
   * BYOB read then gives back its buffer, as an empty view).
   */
  async function readOnce(view?: Uint8Array): Promise<{ chunk: Uint8Array; done: boolean }> {
    stall.arm();
    let next: ReadableStreamReadResult<unknown>;
    try {
      next = byob
        ? await byob.read(view ?? alignedAt(buffers.take(), state.received))
        : await (reader as ReadableStreamDefaultReader<unknown>).read();
    } catch (error) {
      throw readFailure(error, name, state.received, signal, stall);
    }
    // Not armed while the consumer holds the chunk: backpressure is no stall.
    stall.disarm();
    // A cancel ends a pending read as if the stream had ended: that is no end of the bytes.
    if (signal.aborted || stall.fired) throw readFailure(null, name, state.received, signal, stall);
    if (next.done) {
      state.settled = true;
      const rest = next.value === undefined ? new Uint8Array(0) : asBytes(next.value, name, state.received);
      return { chunk: rest.subarray(0, 0), done: true };
    }
    const chunk = asBytes(next.value, name, state.received);
    state.received += chunk.byteLength;
    return { chunk, done: false };
  }

  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const { chunk, done } = await readOnce();
        if (done) return;
        if (chunk.byteLength === 0) continue;
        // Read into a buffer of `buffers`: it goes back there once the framer is done with it.
        if (byob) buffers.own(chunk);
        yield chunk;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      cancel(new Error(`${name} was not read to its end`));
    }
  }
  const generator = chunks();
  if (!byob) return generator;
  const readInto = async (target: Uint8Array): Promise<Uint8Array> => {
    if (state.settled) return target.subarray(0, 0);
    return (await readOnce(target)).chunk;
  };
  return Object.assign(generator, { readInto });
}

/**
 * `buffer` from where byte `position` of the stream would lie in an 8-byte word: a chunk read into it
 * keeps the stream's alignment, so that a record batch body (aligned in the stream) lies aligned in the
 * chunk and is read in place, not copied to align its columns.
 */
function alignedAt(buffer: Uint8Array, position: number): Uint8Array {
  return buffer.subarray(position % 8);
}

/** A BYOB reader of `stream` when it is a byte stream, else `null` (the default reader then). */
function byobReader(stream: ReadableStream<unknown>): ReadableStreamBYOBReader | null {
  try {
    return (stream as ReadableStream<Uint8Array>).getReader({ mode: 'byob' });
  } catch {
    return null;
  }
}

/** A chunk as bytes: a `Uint8Array` as it is, another view or an `ArrayBuffer` seen as bytes. */
function asBytes(value: unknown, name: string, byteOffset: number): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  const what =
    value === null ? 'null' : typeof value === 'object' ? `a ${kindOf(value)}` : `a ${typeof value}`;
  throw new ArgumentError(
    `load: source ${name} must yield Uint8Array chunks, got ${what} after ${byteOffset} bytes`,
    { option: 'source', url: name, byteOffset },
  );
}

function kindOf(value: object): string {
  return (value as { constructor?: { name?: string } }).constructor?.name || 'object';
}

/** The typed error of a read that ended early: aborted, stalled, or the stream's own error. */
function readFailure(
  error: unknown,
  name: string,
  received: number,
  signal: AbortSignal,
  stall: StallTimer,
): Error {
  if (signal.aborted) return loadAborted(name);
  if (stall.fired) {
    return new NetworkError(`${name} stalled: no bytes for ${stall.ms} ms after ${received} bytes`, {
      url: name,
      byteOffset: received,
    });
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new NetworkError(
    `${name} failed after ${received} bytes: ${text}`,
    { url: name, byteOffset: received },
    { cause: error },
  );
}

/** The error for a stream something else is reading. */
export function lockedStream(name: string): ArgumentError {
  return new ArgumentError(
    `load: source must be a ReadableStream that is not locked, got ${name}, which something else is reading`,
    { option: 'source', url: name },
  );
}
