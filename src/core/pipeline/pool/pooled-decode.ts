import type { DataType, RecordBatch, Schema, Vector } from 'apache-arrow';
import type { PreparedBatch } from '../../columns/column-data.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { type BatchStream, openBatchStream } from '../../ipc/decode.js';
import type { FramedMessage } from '../../ipc/framer.js';
import { MessageKind } from '../../ipc/metadata/message.js';
import type { BytePool } from '../../source/byte-pool.js';
import { type GiveBack, markOwned, takeGiveBack } from '../../source/owned-buffers.js';
import { releaseShared } from '../../source/shared-chunks.js';
import type { DecodePool } from './decode-pool.js';
import type { DecodedWire, PoolSession } from './pool-session.js';
import { leafType, prepareBatch } from './prepared-batch.js';
import type { SessionSource, WirePlanOptions } from './protocol.js';

/** A batch on its way to the upload side, decoded on this thread or by a decode worker. */
export interface QueuedBatch {
  batch: RecordBatch | PreparedBatch;
  index: number;
  byteOffset: number;
  endOffset: number;
  pooledBody: Uint8Array | null;
  /** A read worker chunk's view held for the batch (see `DecodedBatch.heldBody`). */
  heldBody: Uint8Array | null;
  /** When (`performance.now()`) the loader had read the last byte of the batch's message. */
  readAt: number;
  /** Called once the batch is uploaded: hands back what its decode worker lent (its scratch buffer). */
  recycle?: (() => void) | null;
}

/** A load decoded by decode workers: the schema read here, record batches framed here and sent out. */
export interface PooledStream extends Omit<BatchStream, 'batches' | 'direct' | 'layout'> {
  /** The batches in source order, once `plans` (made from `schema`) are known. */
  batches(plans: readonly ColumnPlan[]): AsyncGenerator<QueuedBatch>;
  /** Bytes of record batch messages sent to workers and not yet yielded. */
  readonly inFlightBytes: number;
  /** Stops the workers' work for this load and hands them back to the pool. */
  close(reason: unknown): void;
  /** Called once if a worker fails (dies, or throws), whatever the load is waiting for. */
  onFailure(listener: (error: unknown) => void): void;
}

/** What a pooled load is decoded with. */
export interface PoolInput {
  pool: DecodePool;
  workers: number;
  /** The load's plan options, and where the workers read deferred bodies. */
  options: WirePlanOptions & SessionSource;
  /** Where the framer joined bodies: dictionary bodies (copied to the workers) are released here at once. */
  bytePool: BytePool;
}

/**
 * Reads the schema on this thread (from the framer's first message), then opens a session of `workers`
 * decode workers on it. Each worker keeps up to two record batches in flight.
 */
export async function openPooledStream(
  framer: AsyncIterable<FramedMessage>,
  url: string,
  input: PoolInput,
): Promise<PooledStream> {
  const messages = framer[Symbol.asyncIterator]();
  const started = performance.now();
  const first = await messages.next();
  const fetchWait = performance.now() - started;
  const head = first.done ? [] : [first.value];
  const schemaStream = await openBatchStream(fromArray(head), url);
  const { schema, unreadable, runEndEncoded } = schemaStream;
  const session = input.pool.open(input.workers, url, input.options, head[0] as FramedMessage);
  const state = { decodeMs: schemaStream.decodeMs, fetchWaitMs: fetchWait, inFlightBytes: 0 };
  return {
    schema,
    unreadable,
    runEndEncoded,
    get decodeMs() {
      return state.decodeMs;
    },
    get fetchWaitMs() {
      return state.fetchWaitMs;
    },
    get inFlightBytes() {
      return state.inFlightBytes;
    },
    batches: (plans) => dispatch(messages, session, schema, plans, input, state),
    close: (reason) => session.close(reason),
    onFailure: (listener) => {
      session.onFailure = listener;
    },
  };
}

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

interface Dispatched {
  /** The record batch's index among the source's record batches. */
  index: number;
  result: Promise<DecodedWire>;
  bytes: number;
  /** When the framer handed the message over (its last byte read). */
  readAt: number;
}

/** What the batches' submitter and their consumer tell each other: each waits on one wake-up. */
interface Flow {
  /** Batches sent and not yet taken by the consumer, in source order. */
  inFlight: Dispatched[];
  /** The submitter sent its last batch (or failed). */
  ended: boolean;
  /** The consumer stopped taking batches: the submitter sends no more. */
  stopped: boolean;
  /** Why the submitter failed (the framer's error), for the consumer to throw. */
  failure: { error: unknown } | null;
  /** Wakes the consumer: a batch was sent, or the submitter ended. */
  sent: (() => void) | null;
  /** Wakes the submitter: a result was taken, or the consumer stopped. */
  taken: (() => void) | null;
}

/** A promise that `set` is handed the resolver of, as the wake-up the other side calls. */
const waitFor = (set: (wake: () => void) => void) => new Promise<void>((resolve) => set(resolve));

/**
 * Sends messages out as the workers take them, up to two per worker, and yields their results in
 * source order. Sending runs on its own, so a result is yielded as soon as it is back, even while the
 * next message is still being read.
 */
async function* dispatch(
  messages: AsyncIterator<FramedMessage>,
  session: PoolSession,
  schema: Schema,
  plans: readonly ColumnPlan[],
  input: PoolInput,
  state: DispatchState,
): AsyncGenerator<QueuedBatch> {
  const types: DataType[] = plans.map((plan) => leafType(schema, plan));
  const dictionaries = new Map<string, Vector>();
  /**
   * Batches whose body moved out of the framer's pool: it comes back with the result, to reuse; with
   * the way back of a read worker's chunk, which follows the buffer.
   */
  const moved = new Map<number, GiveBack | undefined>();
  const flow: Flow = { inFlight: [], ended: false, stopped: false, failure: null, sent: null, taken: null };
  void submitAll(messages, session, input, state, moved, flow);
  try {
    for (;;) {
      if (flow.failure) throw flow.failure.error;
      // Taken off the list only once its result is in: until then it counts against the limit.
      const next = flow.inFlight[0];
      if (next) {
        // This result and the next are asked for now: later ones wait on their workers, so that few are
        // on this thread at once (these two, the load's queue of two, the one being uploaded), whatever
        // the number of workers. The next is asked for ahead: its worker may be busy decoding another
        // batch when asked, and answers only once that is done.
        session.want(next.index + 1);
        const { wire, recycle } = await next.result;
        flow.inFlight.shift();
        flow.taken?.();
        state.inFlightBytes -= next.bytes;
        state.decodeMs += wire.decodeMs + wire.encodeMs;
        const { byteOffset, endOffset } = wire;
        const batch = prepareBatch(wire, types, dictionaries);
        const pooledBody = moved.has(wire.index) ? wire.body : null;
        const giveBack = moved.get(wire.index);
        moved.delete(wire.index);
        if (pooledBody && giveBack) markOwned(pooledBody, giveBack);
        const { readAt } = next;
        yield {
          batch,
          index: wire.index,
          byteOffset,
          endOffset,
          pooledBody,
          heldBody: null,
          readAt,
          recycle,
        };
        continue;
      }
      if (flow.ended) return;
      await waitFor((wake) => {
        flow.sent = wake;
      });
    }
  } finally {
    flow.stopped = true;
    flow.taken?.();
    // Results asked for and still to come go back to their workers as they arrive; the others are
    // dropped by the workers when the session closes.
    for (const { result } of flow.inFlight.splice(0))
      result.then(
        ({ recycle }) => recycle(),
        () => {},
      );
  }
}

type DispatchState = { decodeMs: number; fetchWaitMs: number; inFlightBytes: number };

/** Reads messages and sends them out while fewer than two per worker are in flight; ends the session after the last. */
async function submitAll(
  messages: AsyncIterator<FramedMessage>,
  session: PoolSession,
  input: PoolInput,
  state: DispatchState,
  moved: Map<number, GiveBack | undefined>,
  flow: Flow,
): Promise<void> {
  const limit = input.workers * 2;
  let index = 0;
  try {
    for (;;) {
      while (flow.inFlight.length >= limit && !flow.stopped) {
        await waitFor((wake) => {
          flow.taken = wake;
        });
      }
      if (flow.stopped) return;
      const waitStart = performance.now();
      const next = await messages.next();
      const readAt = performance.now();
      state.fetchWaitMs += readAt - waitStart;
      if (next.done) break;
      const message = next.value;
      if (flow.stopped) {
        if (message.pooled) input.bytePool.release(message.body);
        if (message.held) releaseShared(message.body);
        return;
      }
      if (message.header.kind !== MessageKind.RecordBatch) {
        session.broadcast(message); // copied to each worker: the framer's buffer is free again
        if (message.pooled) input.bytePool.release(message.body);
        continue;
      }
      const bytes = message.endOffset - message.byteOffset;
      if (message.pooled) moved.set(index, takeGiveBack(message.body));
      const sent = message.pooled ? message : intoPool(message, input.bytePool);
      if (sent !== message) moved.set(index, undefined);
      const result = session.submit(sent, index);
      if (message.held) releaseShared(message.body); // copied (into the pool, or by `submit`)
      result.catch(() => {}); // awaited in order by the consumer; a failure is the load's once it is
      state.inFlightBytes += bytes;
      flow.inFlight.push({ index: index++, result, bytes, readAt });
      flow.sent?.();
    }
    session.end();
  } catch (error) {
    flow.failure = { error };
  } finally {
    flow.ended = true;
    flow.sent?.();
  }
}

/**
 * `message` with its body copied into a buffer of `pool`, moved to the worker and back with the result,
 * and reused once the batch is uploaded, as a joined body is. A new buffer for each body (a small batch's
 * is a view of a larger chunk) cost several times the copy itself, memory written for the first time
 * being that much slower: 182 ms of a 445 ms load of 911 batches on an H100 host. A deferred or empty
 * body is sent as it is.
 */
function intoPool(message: FramedMessage, pool: BytePool): FramedMessage {
  if (message.deferred || message.body.byteLength === 0) return message;
  const body = pool.acquire(message.body.byteLength);
  body.set(message.body);
  return { ...message, body, pooled: true, held: false };
}
