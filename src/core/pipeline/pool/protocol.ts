import type { SourceRange } from '../../columns/column-data.js';
import type { EncodingRequest } from '../../columns/encoding.js';
import type { SerializedError } from '../../errors.js';
import type { FramedMessage } from '../../ipc/framer.js';
import type { BodyFileSpec } from '../../source/byte-source.js';
import type { PackedData } from './pack-data.js';

/**
 * A decode worker as the loader thread sees it, whatever runs it (a Web Worker, a `worker_threads`
 * Worker): messages both ways, and one call when it dies.
 */
export interface DecodeWorkerPort {
  post(message: ToDecoder, transfer: ArrayBuffer[]): void;
  /** Set by the pool: each message the worker sends. */
  onMessage: ((message: FromDecoder) => void) | null;
  /** Set by the pool: called once if the worker dies (an uncaught error, an exit), saying why. */
  onFailure: ((reason: string) => void) | null;
  terminate(): void;
}

/** A source's bytes as a decode worker reads them itself, at any position, synchronously. */
export interface BodyFile {
  /** Reads into `target` from `position`: the bytes read, fewer only at the end of the source. */
  readAt(target: Uint8Array, position: number): number;
  /** Closes the source (once the session ends). */
  close(): void;
}

/** Opens a load's body file on a decode worker; throws when it is not the file the load opened. */
export type OpenBodyFile = (file: BodyFileSpec) => BodyFile;

/** Starts one decode worker. */
export type SpawnDecodeWorker = () => DecodeWorkerPort;

/** How a load's decode workers are started, and how many it uses (0 or 1: decode on the loader's thread). */
export interface DecodeWorkers {
  spawn: SpawnDecodeWorker;
  count: number;
  /** The workers read bodies from a `ByteSource.bodyFile` themselves (`serveDecoder`'s `openBodyFile`). */
  readsBodies?: boolean;
}

/**
 * A framed IPC message as it crosses to a decode worker (its body then its own, or a copy). A small
 * prefix crosses as plain numbers: a buffer of its own would be one more ArrayBuffer allocated on the
 * loader's thread per message (see `ByteSlab`).
 */
export type WireMessage = Omit<FramedMessage, 'pooled' | 'prefix'> & { prefix: Uint8Array | number[] };

/** What a decode worker plans its columns from: the load's own options. */
export interface WirePlanOptions {
  columns?: readonly string[];
  encodings?: EncodingRequest;
  unsupported?: 'error' | 'skip';
}

/** Where a session's workers read deferred bodies, and which words they leave in the source. */
export interface SessionSource {
  bodyFile: BodyFileSpec | null;
  /** See `minSourceWords` in the `open` message. */
  minSourceWords: number | null;
}

/** Loader thread → decode worker. A session is one load; a worker serves several at once. */
export type ToDecoder =
  /** `bodyFile`: where the worker reads the bodies of `deferred` record batches (see `ByteSource.bodyFile`). */
  | {
      type: 'open';
      session: number;
      url: string;
      options: WirePlanOptions;
      schema: WireMessage;
      bodyFile: BodyFileSpec | null;
      /**
       * Words of this many bytes or more that a deferred body holds already in GPU form are left in the
       * file, for the loader to read into staging memory itself (`WireColumn.sourceWords`); `null`: never.
       */
      minSourceWords: number | null;
    }
  /**
   * Dictionary batches go to every worker, in source order; record batches to one, with their index.
   * `send`: post the batch's result as soon as it is ready; else hold it until a `want` names it.
   */
  | { type: 'message'; session: number; message: WireMessage; batch: number | null; send: boolean }
  /** The loader is about to take record batch `batch`: post its result once it is ready (at once if held). */
  | { type: 'want'; session: number; batch: number }
  /** No more messages: decode what was sent, then the session ends. */
  | { type: 'end'; session: number }
  /** The load failed or was cancelled: stop at once, send nothing more. */
  | { type: 'close'; session: number }
  /** A batch's `scratch` buffer (and its own body), uploaded: the worker uses them for later batches. */
  | { type: 'recycle'; buffers: ArrayBuffer[] };

/** One column of a batch as a decode worker returns it, with its validity. */
export interface WireColumn {
  /** The column's GPU words for every row of the batch, when it encodes alone. */
  words: Uint8Array | null;
  /** Else its decoded Arrow data, for the loader thread to encode in order. */
  data: PackedData | null;
  /**
   * A text or binary column bound for the table's dictionary, coded into the worker's own dictionary
   * (`splitDictionary`): `data` holds its Int32 codes; `added`, the values this batch added to the
   * dictionary named `key` (the worker's, for this column and load), which grows batch by batch;
   * `replaces`, the worker's dictionary this one takes the place of (forgotten from now on).
   */
  dictionary?: { key: string; added: PackedData; replaces: string | null };
  /** Or where its words lie in the source, already in GPU form, for the loader to read (see `minSourceWords`). */
  sourceWords?: SourceRange;
  bitmap: Uint8Array | null;
  bitOffset: number;
  nullCount: number;
}

/** A record batch decoded (and encoded where it can be) by a decode worker. */
export interface WireBatch {
  index: number;
  numRows: number;
  byteOffset: number;
  endOffset: number;
  columns: WireColumn[];
  /** The message body the worker was sent or read, moved back for reuse (words of `columns` may lie in it). */
  body: Uint8Array;
  /** The worker read `body` into a buffer of its own (a deferred body): it is handed back with `scratch`. */
  ownBody: boolean;
  /** The worker's buffer that encoded words of `columns` lie in, to hand back once they are uploaded. */
  scratch: ArrayBuffer | null;
  /** Milliseconds the worker spent decoding and encoding it. */
  decodeMs: number;
  encodeMs: number;
}

/** Decode worker → loader thread. */
export type FromDecoder =
  | { type: 'batch'; session: number; batch: WireBatch }
  /** `batch`: the record batch it failed on; `error`: a library error, or what something else threw. */
  | { type: 'error'; session: number; batch: number; error: SerializedError | { message: string } };
