import { Table, tableToIPC } from 'apache-arrow';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';

/** The bytes as one chunk. */
export async function* whole(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The bytes cut at the given chunk sizes (cycled). */
export async function* chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.byteLength; i++) {
    const size = Math.max(1, sizes[i % sizes.length] as number);
    yield bytes.slice(at, at + size);
    at += size;
  }
}

/** The bytes through a WHATWG ReadableStream, as `fetch` delivers them. */
export async function* streamed(bytes: Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) controller.close();
      else {
        controller.enqueue(bytes.slice(at, at + chunkSize));
        at += chunkSize;
      }
    },
  });
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** Encodes a generated data set in memory. */
export function encodeDataset(spec: DatasetSpec): Uint8Array {
  return tableToIPC(new Table([...batchesOf(spec)]), spec.format);
}

/** What a `trickle` source did: chunks handed out, and whether its consumer closed it. */
export interface TrickleState {
  chunks: number;
  bytes: number;
  /** Everything up to `stallAt` handed out, and nothing after it yet. */
  stalled: boolean;
  closed: boolean;
}

/** How a `trickle` source delivers. */
export interface TrickleOptions {
  chunkSize: number;
  delayMs: number;
  /** Runs before each piece is handed out (to inject faults mid-load). */
  onChunk?: (index: number) => void;
  /** Offsets where pieces end instead (ascending), before the `chunkSize` pieces resume. */
  cuts?: readonly number[];
  /** Stop after this many bytes, as a stalled connection does, until `resume` settles. */
  stallAt?: number;
  resume?: Promise<unknown>;
}

/**
 * The bytes in small pieces, each after a delay, as a slow network delivers them. `state` shows how
 * far the reader got and whether it closed the source.
 */
export function trickle(
  bytes: Uint8Array,
  { chunkSize, delayMs, onChunk = () => {}, cuts = [], stallAt = Infinity, resume }: TrickleOptions,
): { source: AsyncGenerator<Uint8Array>; state: TrickleState } {
  const state: TrickleState = { chunks: 0, bytes: 0, stalled: false, closed: false };
  const pieceEnd = (at: number) => {
    const end = cuts.find((cut) => cut > at) ?? at + chunkSize;
    return at < stallAt ? Math.min(end, stallAt) : end;
  };
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      while (state.bytes < bytes.byteLength) {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (state.bytes === stallAt) await resume;
        state.stalled = false;
        onChunk(state.chunks);
        const piece = bytes.slice(state.bytes, pieceEnd(state.bytes));
        state.chunks++;
        state.bytes += piece.byteLength;
        state.stalled = state.bytes === stallAt;
        yield piece;
      }
    } finally {
      state.closed = true;
    }
  }
  return { source: source(), state };
}

/** Reads the last bytes of an in-memory source, as an HTTP Range request would. */
export function tailOf(bytes: Uint8Array): (length: number) => Promise<Uint8Array> {
  return async (length) => bytes.slice(Math.max(0, bytes.byteLength - length));
}

/** What a `gated` source did: pieces handed out, and the piece it waits to be released (if any). */
export interface GateState {
  /** Pieces handed out so far. */
  handedOut: number;
  /** The index of the piece the consumer asked for and that is not released yet; `null` when none. */
  waitingFor: number | null;
  closed: boolean;
}

/**
 * The bytes cut at `ends` (the last piece runs to the end), each piece after the first held back until
 * `release()` lets it go, as a live server sends batches as they are made. `asked(i)` resolves when
 * the consumer asks for piece `i`, released or not.
 */
export function gated(
  bytes: Uint8Array,
  ends: readonly number[],
): {
  source: AsyncGenerator<Uint8Array>;
  state: GateState;
  release: (pieces?: number) => void;
  asked: (piece: number) => Promise<void>;
} {
  const cuts = [...ends.filter((end) => end < bytes.byteLength), bytes.byteLength];
  const state: GateState = { handedOut: 0, waitingFor: null, closed: false };
  let released = 1;
  let wake = () => {};
  const askedFor: Array<() => void> = [];
  const waiters = new Map<number, Promise<void>>();
  const asked = (piece: number) => {
    let promise = waiters.get(piece);
    if (!promise) {
      promise = new Promise<void>((resolve) => {
        askedFor[piece] = resolve;
      });
      waiters.set(piece, promise);
    }
    if (state.handedOut > piece || state.waitingFor === piece) askedFor[piece]?.();
    return promise;
  };
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      let at = 0;
      for (const [piece, end] of cuts.entries()) {
        askedFor[piece]?.();
        while (piece >= released) {
          state.waitingFor = piece;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        state.waitingFor = null;
        state.handedOut++;
        yield bytes.slice(at, end);
        at = end;
      }
    } finally {
      state.closed = true;
    }
  }
  const release = (pieces = 1) => {
    released += pieces;
    wake();
  };
  return { source: source(), state, release, asked };
}

/** `bytes` as a byte stream (`type: 'bytes'`, as fetch bodies are) of `size`-byte pulls; may fail at `failAt`. */
export function byteStream(bytes: Uint8Array, size: number, failAt?: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (failAt !== undefined && at >= failAt) {
        controller.error(new Error('connection reset'));
        return;
      }
      if (at >= bytes.byteLength) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}
