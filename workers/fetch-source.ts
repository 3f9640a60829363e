import { HttpStatusError, loadAborted, NetworkError } from '../src/core/errors.js';
import type { ByteSource } from '../src/core/source/byte-source.js';
import { keepLast } from '../src/core/source/tail-bytes.js';

/**
 * Opens `url` with `fetch` and yields its body as it arrives. Failures become typed errors naming the
 * URL; `timeoutMs` fails the load when no byte arrives for that long (a stalled server).
 */
export async function fetchSource(
  url: string,
  signal: AbortSignal,
  options: { timeoutMs?: number },
): Promise<ByteSource> {
  const stall = new StallTimer(options.timeoutMs);
  const combined = AbortSignal.any([signal, stall.signal]);
  let response: Response;
  try {
    stall.arm();
    response = await fetch(url, { signal: combined });
  } catch (error) {
    throw failure(error, url, signal, stall, 0);
  }
  if (!response.ok) {
    stall.disarm();
    void response.body?.cancel().catch(() => {});
    throw new HttpStatusError(`GET ${url} answered HTTP ${response.status} ${response.statusText}`.trim(), {
      url,
      status: response.status,
    });
  }
  const length = Number(response.headers.get('content-length'));
  const encoded = response.headers.get('content-encoding');
  const bytesTotal = Number.isFinite(length) && length > 0 && !encoded ? length : null;
  return {
    body: readBody(response, url, signal, stall),
    bytesTotal,
    readTail: (n) => readTail(url, signal, n, bytesTotal, options.timeoutMs),
  };
}

/**
 * The last `length` bytes of `url`, by a Range request. `bytes=N-` is a CORS-safelisted range, so it is
 * preferred when the size is known. A server that ignores ranges answers 200 with the whole body, which
 * is then streamed through keeping only its tail.
 */
async function readTail(
  url: string,
  signal: AbortSignal,
  length: number,
  size: number | null,
  timeoutMs: number | undefined,
): Promise<Uint8Array> {
  const range = size !== null ? `bytes=${Math.max(0, size - length)}-` : `bytes=-${length}`;
  const stall = new StallTimer(timeoutMs);
  const combined = AbortSignal.any([signal, stall.signal]);
  let received = 0;
  try {
    stall.arm();
    const response = await fetch(url, { signal: combined, headers: { Range: range } });
    if (!response.ok) {
      void response.body?.cancel().catch(() => {});
      throw new HttpStatusError(
        `GET ${url} (${range}, for the file footer) answered HTTP ${response.status}`,
        {
          url,
          status: response.status,
        },
      );
    }
    let tail: Uint8Array = new Uint8Array(0);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      stall.arm();
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      tail = keepLast(tail, value, length);
    }
    return tail;
  } catch (error) {
    if (error instanceof HttpStatusError) throw error;
    throw failure(error, url, signal, stall, received);
  } finally {
    stall.disarm();
  }
}

async function* readBody(
  response: Response,
  url: string,
  signal: AbortSignal,
  stall: StallTimer,
): AsyncGenerator<Uint8Array> {
  const body = response.body;
  if (!body) return;
  const reader = body.getReader();
  let received = 0;
  try {
    for (;;) {
      stall.arm();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw failure(error, url, signal, stall, received);
      }
      // Not armed while the consumer holds the chunk: backpressure is no stall.
      stall.disarm();
      if (chunk.done) return;
      received += chunk.value.byteLength;
      yield chunk.value;
    }
  } finally {
    stall.disarm();
    reader.cancel().catch(() => {});
  }
}

function failure(
  error: unknown,
  url: string,
  signal: AbortSignal,
  stall: StallTimer,
  received: number,
): Error {
  stall.disarm();
  if (signal.aborted) return loadAborted(url);
  if (stall.fired) {
    return new NetworkError(`${url} stalled: no bytes for ${stall.ms} ms after ${received} bytes`, {
      url,
      byteOffset: received,
    });
  }
  const message = String((error as Error)?.message ?? error);
  if (received > 0) {
    return new NetworkError(`The connection to ${url} broke after ${received} bytes: ${message}`, {
      url,
      byteOffset: received,
    });
  }
  const crossOrigin = new URL(url).origin !== self.location.origin;
  const hint = crossOrigin
    ? ` (${url} is cross-origin: the server must send Access-Control-Allow-Origin (CORS), or it is unreachable)`
    : '';
  return new NetworkError(`Fetching ${url} failed: ${message}${hint}`, { url }, { cause: error });
}

/** Aborts when `arm()` is not called again within `ms`. */
class StallTimer {
  readonly #controller = new AbortController();
  readonly ms: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  fired = false;

  constructor(ms: number | undefined) {
    this.ms = ms;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  arm(): void {
    if (this.ms === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.fired = true;
      this.#controller.abort();
    }, this.ms);
  }

  disarm(): void {
    clearTimeout(this.#timer);
  }
}
