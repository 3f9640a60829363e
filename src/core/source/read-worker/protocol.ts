import type { SerializedError } from '../../errors.js';
import type { RequestSpec } from '../source-spec.js';

/**
 * The messages between a loader and its read worker: a thread that only fetches URLs and reads their
 * responses, so that the socket keeps being drained while the loader's thread decodes and uploads. A
 * browser reads a response body on the thread that asked for it, between that thread's tasks, and
 * stops taking bytes from the network once its small body buffer is full: a busy loader thread
 * otherwise leaves the download waiting.
 */
export type ToReader =
  /**
   * Fetches `url` and reads its body ahead, holding at most `maxBytes` that the loader did not ask for;
   * its first bytes are sent as soon as they are read (an implied `pull`). Each pull takes about
   * `pullBytes` (see `HostedReadLimits`).
   */
  | {
      type: 'open';
      id: number;
      url: string;
      timeoutMs?: number;
      request?: RequestSpec;
      maxBytes: number;
      pullBytes: number;
    }
  /**
   * The loader wants bytes: about `pullBytes` of those held go at once, else the next bytes read as soon
   * as they come. `starving`: it holds none of the response's bytes left (not only fewer than it likes);
   * `received`: the `chunks` messages of this response it had then (a pull sent before chunks already
   * on their way came is answered by them).
   */
  | { type: 'pull'; id: number; starving: boolean; received: number }
  /** Closes the request (the load ended, failed or was cancelled); nothing more is sent for it. */
  | { type: 'cancel'; id: number }
  /**
   * Buffers of whole chunks the loader is done with (moved back, contents no longer needed): the
   * worker reads later chunks of their sizes into them rather than into new memory.
   */
  | { type: 'recycle'; buffers: ArrayBuffer[] };

export type FromReader =
  /** The response's headers came: its announced length (`null` when unknown). */
  | { type: 'opened'; id: number; bytesTotal: number | null }
  /** The next bytes, in order, each on a buffer of its own (moved); `end`: the body ended after them. */
  | { type: 'chunks'; id: number; chunks: Uint8Array[]; end: boolean }
  /** The request failed (after the bytes already sent): its typed error. */
  | { type: 'failed'; id: number; error: SerializedError };

/** A read worker as the loader thread sees it, whatever runs it: messages both ways, and one call when it dies. */
export interface ReadWorkerPort {
  /** Posts `message`, moving `transfer`. */
  post(message: ToReader, transfer?: ArrayBuffer[]): void;
  /** Set by the client: each message the worker sends. */
  onMessage: ((message: FromReader) => void) | null;
  /** Set by the client: called once if the worker dies, saying why. */
  onFailure: ((reason: string) => void) | null;
  terminate(): void;
}

/** Starts a read worker. */
export type SpawnReadWorker = () => ReadWorkerPort;
