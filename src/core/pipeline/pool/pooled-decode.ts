import type { DataType, RecordBatch, Schema, Vector } from 'apache-arrow';
import type { PreparedBatch } from '../../columns/column-data.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { type BatchStream, openBatchStream } from '../../ipc/decode.js';
import type { FramedMessage } from '../../ipc/framer.js';
import { MessageKind } from '../../ipc/metadata/message.js';
import type { BytePool } from '../../source/byte-pool.js';
import type { DecodePool } from './decode-pool.js';
import type { DecodedWire, PoolSession } from './pool-session.js';
import { leafType, prepareBatch } from './prepared-batch.js';
import type { WirePlanOptions } from './protocol.js';

/** A batch on its way to the upload side, decoded on this thread or by a decode worker. */
export interface QueuedBatch {
  batch: RecordBatch | PreparedBatch;
  index: number;
  byteOffset: number;
  endOffset: number;
  pooledBody: Uint8Array | null;
  /** Called once the batch is uploaded: hands back what its decode worker lent (its scratch buffer). */
  recycle?: (() => void) | null;
}

/** A load decoded by decode workers: the schema read here, record batches framed here and sent out. */
export interface PooledStream extends Omit<BatchStream, 'batches'> {
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
  options: WirePlanOptions;
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
  result: Promise<DecodedWire>;
  bytes: number;
}

/** Sends messages out as the workers take them, and yields their results in source order. */
async function* dispatch(
  messages: AsyncIterator<FramedMessage>,
  session: PoolSession,
  schema: Schema,
  plans: readonly ColumnPlan[],
  input: PoolInput,
  state: { decodeMs: number; fetchWaitMs: number; inFlightBytes: number },
): AsyncGenerator<QueuedBatch> {
  const types: DataType[] = plans.map((plan) => leafType(schema, plan));
  const dictionaries = new Map<string, Vector>();
  const inFlight: Dispatched[] = [];
  /** Batches whose body moved out of the framer's pool: it comes back with the result, to reuse. */
  const moved = new Set<number>();
  const limit = input.workers * 2;
  let index = 0;
  const settle = async (): Promise<QueuedBatch> => {
    const { result, bytes } = inFlight.shift() as Dispatched;
    const { wire, recycle } = await result;
    state.inFlightBytes -= bytes;
    state.decodeMs += wire.decodeMs + wire.encodeMs;
    const { byteOffset, endOffset } = wire;
    const batch = prepareBatch(wire, types, dictionaries);
    const pooledBody = moved.delete(wire.index) ? wire.body : null;
    return { batch, index: wire.index, byteOffset, endOffset, pooledBody, recycle };
  };
  for (;;) {
    const waitStart = performance.now();
    const next = await messages.next();
    state.fetchWaitMs += performance.now() - waitStart;
    if (next.done) break;
    const message = next.value;
    if (message.header.kind !== MessageKind.RecordBatch) {
      session.broadcast(message); // copied to each worker: the framer's buffer is free again
      if (message.pooled) input.bytePool.release(message.body);
      continue;
    }
    const bytes = message.endOffset - message.byteOffset;
    if (message.pooled) moved.add(index);
    const result = session.submit(message, index++);
    result.catch(() => {}); // awaited in order below; a failure is the load's once it is
    state.inFlightBytes += bytes;
    inFlight.push({ result, bytes });
    while (inFlight.length >= limit) yield await settle();
  }
  session.end();
  while (inFlight.length > 0) yield await settle();
}
