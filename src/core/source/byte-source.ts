import type { RequestSpec } from './source-spec.js';

/** Reads the last `length` bytes of a source (an HTTP `Range` request, a file read). */
export type ReadTail = (length: number) => Promise<Uint8Array>;

/** An opened byte source: the body as it arrives and its announced length. */
export interface ByteSource {
  body: AsyncIterable<Uint8Array>;
  /** From `Content-Length`, the Blob's size or the bytes' length; `null` when unknown. */
  bytesTotal: number | null;
  /**
   * Another thread reads `body` ahead of this one (a read worker): the loader's own read-ahead then
   * keeps a chunk only, rather than a second lead on this thread.
   */
  readsAhead?: boolean;
  /** Reads the last bytes (for files whose schema is only in their footer). */
  readTail?: ReadTail;
  /**
   * A file that decode workers can open to read record batch bodies themselves, at their offsets (a
   * file in Node): the loader then skips those bodies instead of reading and moving them.
   */
  bodyFile?: BodyFileSpec;
  /**
   * Reads bytes at `position` into `target`, off this thread (a file in Node): the bytes read, fewer
   * only at the end of the source. Usable until `closeReads`, whatever happens to `body`.
   */
  readAt?: (target: Uint8Array, position: number) => Promise<number>;
  /** Closes what `readAt` opened; called once the load has ended and no read is under way. */
  closeReads?: () => void;
}

/** A file decode workers can open themselves: where it is, and what it was when the load opened it. */
export interface BodyFileSpec {
  /** An absolute path. */
  path: string;
  /** Device, inode, size and modification time as the load saw them: a worker refuses a file that differs. */
  stamp: string;
}

/**
 * Opens `url` (`fetch` in a worker, a file in Node) with `options.request` (method, headers,
 * credentials, body; a GET without it); rejects with `HTTP_STATUS` / `NETWORK` / `ABORTED`. Aborting
 * `signal` closes the request, whenever that happens: before the headers, while the body streams, or
 * after the load failed for another reason.
 */
export type OpenSource = (
  url: string,
  signal: AbortSignal,
  options: { timeoutMs?: number; request?: RequestSpec },
) => Promise<ByteSource>;
