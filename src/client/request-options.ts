import type { RequestBodySpec, RequestSpec } from '../core/source/source-spec.js';
import type { RequestOptions } from '../types.js';
import { invalidOption } from './options.js';

const CREDENTIALS: readonly RequestCredentials[] = ['omit', 'same-origin', 'include'];

/** An HTTP method token (RFC 9110); `fetch` refuses the rest. */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Methods `fetch` refuses outright. */
const FORBIDDEN_METHODS = ['CONNECT', 'TRACE', 'TRACK'];

/** Methods `fetch` normalizes to upper case. */
const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];

/** Whether any request option is given. */
export function hasRequestOptions(options: RequestOptions): boolean {
  return (
    options.method !== undefined ||
    options.headers !== undefined ||
    options.credentials !== undefined ||
    options.body !== undefined
  );
}

/**
 * The request options of a URL source as they cross to the worker, or `undefined` for a plain GET.
 * Each one `fetch` would refuse is `INVALID_ARGUMENT` here, naming it, before anything is sent.
 */
export function requestSpec(options: RequestOptions, call: string): RequestSpec | undefined {
  if (!hasRequestOptions(options)) return undefined;
  const method = checkMethod(options.method, call);
  const headers = checkHeaders(options.headers, call);
  const spec: RequestSpec = { method, headers: [...headers] };
  const { credentials, body } = options;
  if (credentials !== undefined) {
    if (!CREDENTIALS.includes(credentials)) {
      throw invalidOption(call, 'credentials', '"omit", "same-origin" or "include"', credentials);
    }
    spec.credentials = credentials;
  }
  if (body !== undefined && body !== null) {
    if (method === 'GET' || method === 'HEAD') {
      throw invalidOption(
        call,
        'body',
        `sent with a method other than GET or HEAD (method is ${method})`,
        body,
      );
    }
    const { value, contentType } = bodySpec(body, call);
    // As fetch does for a form: the type goes with it unless the caller set one.
    if (contentType && !headers.has('content-type')) spec.headers.push(['content-type', contentType]);
    spec.body = value;
  }
  return spec;
}

function checkMethod(method: unknown, call: string): string {
  if (method === undefined) return 'GET';
  if (typeof method !== 'string' || !METHOD_TOKEN.test(method)) {
    throw invalidOption(call, 'method', 'an HTTP method such as "GET" or "POST"', method);
  }
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.includes(upper)) {
    throw invalidOption(call, 'method', 'a method fetch allows (not CONNECT, TRACE or TRACK)', method);
  }
  return NORMALIZED_METHODS.includes(upper) ? upper : method;
}

function checkHeaders(headers: unknown, call: string): Headers {
  try {
    return new Headers(headers as HeadersInit | undefined);
  } catch (error) {
    throw invalidOption(
      call,
      'headers',
      `a Headers, an object of header values or name–value pairs (${(error as Error).message})`,
      headers,
    );
  }
}

/** A body structured clone carries: views become their bytes, a form its text (and its content type). */
function bodySpec(body: unknown, call: string): { value: RequestBodySpec; contentType?: string } {
  if (typeof body === 'string' || body instanceof Blob) return { value: body };
  // postMessage copies an ArrayBuffer as it sends it.
  if (body instanceof ArrayBuffer) return { value: body };
  if (ArrayBuffer.isView(body)) {
    const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    return { value: bytes.slice().buffer };
  }
  if (body instanceof URLSearchParams) {
    return { value: body.toString(), contentType: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  throw invalidOption(call, 'body', 'a string, ArrayBuffer, typed array, Blob or URLSearchParams', body);
}
