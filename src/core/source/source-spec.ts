/**
 * A request body as it crosses to the worker: what structured clone carries (URLSearchParams and
 * typed-array views are turned into a string or an ArrayBuffer on the main thread first).
 */
export type RequestBodySpec = string | ArrayBuffer | Blob;

/** A URL source's request options as they cross to the worker (headers as name–value pairs). */
export interface RequestSpec {
  method: string;
  headers: [string, string][];
  credentials?: RequestCredentials;
  body?: RequestBodySpec;
}

/**
 * A source other than a URL, as it crosses to the worker: a Blob (cloned by reference), bytes
 * (transferred) or a stream (transferred; a `Response`'s body arrives as one, with its Content-Length).
 */
export type SourceSpec =
  | { kind: 'blob'; blob: Blob }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'stream'; stream: ReadableStream<Uint8Array>; bytesTotal: number | null };
