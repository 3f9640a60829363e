import { HttpStatusError, loadAborted, NetworkError } from '../src/core/errors.js';
import type { ByteSource, ReadTail } from '../src/core/source/byte-source.js';
import type { RequestSpec } from '../src/core/source/source-spec.js';
import { StallTimer } from '../src/core/source/stall-timer.js';
import { readStream } from '../src/core/source/stream-source.js';
import { keepLast } from '../src/core/source/tail-bytes.js';

/**
 * Opens `url` with `fetch` (with `options.request`'s method, headers, credentials and body; a GET
 * without it) and yields its body as it arrives. Failures become typed errors naming the URL;
 * `timeoutMs` fails the load when no byte arrives for that long (a stalled server).
 */
export async function fetchSource(
  url: string,
  signal: AbortSignal,
  options: { timeoutMs?: number; request?: RequestSpec },
): Promise<ByteSource> {
  const { request } = options;
  const method = request?.method ?? 'GET';
  const stall = new StallTimer(options.timeoutMs);
  const combined = AbortSignal.any([signal, stall.signal]);
  let response: Response;
  try {
    stall.arm();
    response = await fetch(url, {
      signal: combined,
      method,
      headers: request?.headers,
      credentials: request?.credentials,
      body: request?.body,
    });
  } catch (error) {
    throw failure(error, url, signal, stall, 0);
  }
  if (!response.ok) {
    stall.disarm();
    void response.body?.cancel().catch(() => {});
    throw new HttpStatusError(
      `${method} ${url} answered HTTP ${response.status} ${response.statusText}`.trim(),
      { url, status: response.status },
    );
  }
  const length = Number(response.headers.get('content-length'));
  const encoded = response.headers.get('content-encoding');
  const bytesTotal = Number.isFinite(length) && length > 0 && !encoded ? length : null;
  // The body has its own stall timer (and is read with a BYOB reader where it is a byte stream, as
  // Chromium's fetch bodies are: record batch bodies then land straight in their pooled buffers).
  stall.disarm();
  const body = response.body;
  return {
    body: body ? readStream(body, url, signal, options.timeoutMs) : empty(),
    bytesTotal,
    readTail: tailReader(url, signal, options, bytesTotal),
  };
}

/**
 * How the last bytes of `url` are read (for a file whose schema is only in its footer): a second
 * request with a Range. Only a GET is safe to repeat (a POST may run a query again): none otherwise.
 */
export function tailReader(
  url: string,
  signal: AbortSignal,
  options: { timeoutMs?: number; request?: RequestSpec },
  bytesTotal: number | null,
): ReadTail | undefined {
  const { request, timeoutMs } = options;
  if ((request?.method ?? 'GET') !== 'GET') return undefined;
  return (n) => readTail(url, signal, n, bytesTotal, timeoutMs, request);
}

/**
 * The last `length` bytes of `url`, by a Range request with the load's headers and credentials.
 * `bytes=N-` is a CORS-safelisted range, so it is preferred when the size is known. A server that
 * ignores ranges answers 200 with the whole body, which is then streamed through keeping only its tail.
 */
async function readTail(
  url: string,
  signal: AbortSignal,
  length: number,
  size: number | null,
  timeoutMs: number | undefined,
  request: RequestSpec | undefined,
): Promise<Uint8Array> {
  const range = size !== null ? `bytes=${Math.max(0, size - length)}-` : `bytes=-${length}`;
  const stall = new StallTimer(timeoutMs);
  const combined = AbortSignal.any([signal, stall.signal]);
  const headers = new Headers(request?.headers);
  headers.set('Range', range);
  let received = 0;
  try {
    stall.arm();
    const response = await fetch(url, { signal: combined, headers, credentials: request?.credentials });
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

async function* empty(): AsyncGenerator<Uint8Array> {}

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
