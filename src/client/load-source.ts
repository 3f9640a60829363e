import { ArgumentError, HttpStatusError, NetworkError } from '../core/errors.js';
import type { RequestSpec, SourceSpec } from '../core/source/source-spec.js';
import type { LoadSource, RequestOptions } from '../types.js';
import { invalidOption } from './options.js';
import { hasRequestOptions, requestSpec } from './request-options.js';

/** A source as `load` and `inspect` send it to the worker, and what goes with it by transfer. */
export interface WireSource {
  /** The absolute URL, or the source's name in errors (`blob:<name>`, `stream`, `response <url>`, `bytes`). */
  url: string;
  request?: RequestSpec;
  source?: SourceSpec;
  /** Moved to the worker, not copied: a stream, or the bytes' buffer. */
  transfer: Transferable[];
}

/** What decides how a source is sent: the request options of a URL, and whether bytes are kept. */
export interface SourceOptions extends RequestOptions {
  keepBytes?: boolean;
}

const EXPECTED =
  'a URL (string or URL), a Response, a ReadableStream, a Blob, an ArrayBuffer or a Uint8Array';

/**
 * Checks a call's options (with `check`) and turns its source into what the worker is sent. A stream
 * source of a call refused here is cancelled: the call owned it.
 */
export function prepareSource<O extends SourceOptions>(
  source: LoadSource,
  options: O,
  check: (options: O) => void,
): WireSource {
  try {
    check(options);
    return wireSource(source, options, 'load');
  } catch (error) {
    discardSource(source, error);
    throw error;
  }
}

/**
 * `source` as it crosses to the worker. Anything but the sources `LoadSource` lists is
 * `INVALID_ARGUMENT` naming what was given; a `Response` outside 2xx is `HTTP_STATUS`; request options
 * with a source that is not a URL are `INVALID_ARGUMENT`.
 */
export function wireSource(source: LoadSource, options: SourceOptions, call: string): WireSource {
  if (typeof source === 'string' || source instanceof URL) {
    const request = requestSpec(options, call);
    return { url: resolveUrl(source), ...(request ? { request } : {}), transfer: [] };
  }
  if (hasRequestOptions(options) && isSource(source)) {
    const option = (['method', 'headers', 'credentials', 'body'] as const).find(
      (o) => options[o] !== undefined,
    );
    throw new ArgumentError(
      `${call}: ${option} applies to a URL source only, and the source is ${sourceName(source)}`,
      { option: option as string },
    );
  }
  if (source instanceof Response) return responseWire(source, call);
  if (source instanceof ReadableStream) return streamWire(source, 'stream', null, call);
  if (source instanceof Blob)
    return { url: sourceName(source), source: { kind: 'blob', blob: source }, transfer: [] };
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) {
    return bytesWire(source, options.keepBytes === true, call);
  }
  throw invalidOption(call, 'source', EXPECTED, source);
}

function isSource(source: unknown): boolean {
  return (
    source instanceof Response ||
    source instanceof ReadableStream ||
    source instanceof Blob ||
    source instanceof ArrayBuffer ||
    source instanceof Uint8Array
  );
}

/** How errors name a source that is not a URL. */
export function sourceName(source: Response | ReadableStream | Blob | ArrayBuffer | Uint8Array): string {
  if (source instanceof Response) return source.url ? `response ${source.url}` : 'response';
  if (source instanceof ReadableStream) return 'stream';
  if (source instanceof Blob) {
    const name = source instanceof File && source.name ? source.name : source.type;
    return name ? `blob:${name}` : 'blob';
  }
  return 'bytes';
}

/** A Response's body, transferred; its status checked first, its Content-Length announced. */
function responseWire(response: Response, call: string): WireSource {
  const name = sourceName(response);
  if (response.bodyUsed) {
    throw new ArgumentError(
      `${call}: source must be a Response whose body is unread, got ${name}, already read`,
      {
        option: 'source',
        url: name,
      },
    );
  }
  if (!response.ok) {
    void response.body?.cancel().catch(() => {});
    const opaque = response.type === 'opaque' ? ' (an opaque no-cors response: its body cannot be read)' : '';
    throw new HttpStatusError(
      `${name} has HTTP status ${response.status} ${response.statusText}${opaque}`.trim(),
      {
        url: name,
        status: response.status,
      },
    );
  }
  if (!response.body) return { url: name, source: { kind: 'bytes', bytes: new Uint8Array(0) }, transfer: [] };
  // Content-Length counts encoded bytes: the body is decoded, so an encoded length says nothing.
  const length = Number(response.headers.get('content-length'));
  const encoded = response.headers.get('content-encoding');
  const bytesTotal = Number.isFinite(length) && length > 0 && !encoded ? length : null;
  return streamWire(response.body, name, bytesTotal, call);
}

function streamWire(
  stream: ReadableStream<Uint8Array>,
  name: string,
  bytesTotal: number | null,
  call: string,
): WireSource {
  if (stream.locked) {
    throw new ArgumentError(
      `${call}: source must be a ReadableStream that is not locked, got ${name}, which something else is reading`,
      { option: 'source', url: name },
    );
  }
  return { url: name, source: { kind: 'stream', stream, bytesTotal }, transfer: [stream] };
}

/**
 * Bytes, transferred when they are a whole `ArrayBuffer` (the caller's is detached); copied with
 * `keepBytes`, and always when they are a view of part of a buffer (a transfer would take all of it) or
 * of a shared one.
 */
function bytesWire(source: ArrayBuffer | Uint8Array, keep: boolean, call: string): WireSource {
  const buffer = source instanceof ArrayBuffer ? source : source.buffer;
  if (isDetached(buffer)) {
    throw new ArgumentError(
      `${call}: source must be bytes that can be read, got a detached ArrayBuffer (an earlier load or ` +
        'postMessage took it: pass keepBytes: true to load the same bytes again)',
      { option: 'source', url: 'bytes' },
    );
  }
  const whole = source instanceof ArrayBuffer || source.byteLength === buffer.byteLength;
  if (!keep && whole && buffer instanceof ArrayBuffer) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
    return { url: 'bytes', source: { kind: 'bytes', bytes }, transfer: [buffer] };
  }
  const copy = source instanceof ArrayBuffer ? new Uint8Array(source.slice(0)) : source.slice();
  return { url: 'bytes', source: { kind: 'bytes', bytes: copy }, transfer: [copy.buffer] };
}

/** Whether `buffer` was transferred away (`detached` where the engine has it; else a view cannot be made). */
function isDetached(buffer: ArrayBufferLike): boolean {
  const flag = (buffer as { detached?: unknown }).detached;
  if (typeof flag === 'boolean') return flag;
  if (buffer.byteLength > 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * Cancels a stream source (or a Response's body) that never reached the worker: the load failed or was
 * aborted first. A load owns its stream: it reads it to its end or cancels it.
 */
export function discardSource(source: unknown, reason: unknown): void {
  const stream =
    source instanceof ReadableStream
      ? source
      : source instanceof Response && !source.bodyUsed
        ? source.body
        : null;
  if (stream && !stream.locked) stream.cancel(reason).catch(() => {});
}

/** The absolute URL the worker fetches (a worker resolves relative URLs against its own script, not the page). */
function resolveUrl(url: string | URL): string {
  try {
    return new URL(url, globalThis.location?.href).href;
  } catch {
    throw new NetworkError(`${String(url)} is not a valid URL`, { url: String(url) });
  }
}
