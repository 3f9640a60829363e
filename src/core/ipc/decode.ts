import { type RecordBatch, RecordBatchReader, type Schema } from 'apache-arrow';
import { ArrowGpuError, DecodeError } from '../errors.js';
import { registerCompressionCodecs } from './compression/codecs.js';
import type { FramedMessage } from './framer.js';
import { MessageFeed } from './message-feed.js';
import { MessageKind } from './metadata/message.js';
import type { SchemaLayout } from './metadata/schema.js';
import { SchemaRewrite, type UnreadableColumn } from './schema-rewrite.js';

/** A decoded record batch and where its message began; `B`: what a `direct` reader makes instead. */
export interface DecodedBatch<B = never> {
  batch: RecordBatch | B;
  /** Index among the record batches of the source. */
  index: number;
  /** Offset of the batch's message in the source bytes. */
  byteOffset: number;
  /** Offset just past the batch's message. */
  endOffset: number;
  /** The pooled buffer holding the message body, to release once the batch is uploaded; else `null`. */
  pooledBody: Uint8Array | null;
  /** The body, a view of a read worker's chunk held for it, to `releaseShared` once the batch is uploaded; else `null`. */
  heldBody: Uint8Array | null;
  /** When (`performance.now()`) the loader had read the last byte of the batch's message. */
  readAt: number;
}

/**
 * Reads a record batch message without apache-arrow (`index`: the batch's, for errors); `null` leaves
 * the message to apache-arrow.
 */
export type DirectRead<B> = (message: FramedMessage, index: number) => B | null;

/** The schema of an IPC source and its batches, decoded as the bytes arrive. */
export interface BatchStream<B = never> {
  /** The schema apache-arrow decodes: without the `unreadable` columns. */
  schema: Schema;
  /** What the schema's batches list, node by node, as the framer checked it; `null` if it was not read. */
  layout: SchemaLayout | null;
  /** Columns taken out because apache-arrow cannot decode their type (ListView…). */
  unreadable: readonly UnreadableColumn[];
  /**
   * Paths (field indices from the top level down) of the RunEndEncoded fields in `schema`, which
   * apache-arrow decodes as the struct of their `run_ends` and `values`: the runs are not expanded.
   */
  runEndEncoded: readonly (readonly number[])[];
  batches: AsyncIterable<DecodedBatch<B>>;
  /**
   * Set before the batches are read, a reader that takes record batches instead of apache-arrow, each
   * one it does not return `null` for. Used only where apache-arrow keeps no state across them: a schema
   * without dictionaries, read as is (no column taken out or rewritten).
   */
  direct: DirectRead<B> | null;
  /** Milliseconds apache-arrow spent decoding, waiting for bytes excluded. */
  readonly decodeMs: number;
  /** Milliseconds spent waiting for bytes from the source. */
  readonly fetchWaitMs: number;
}

/**
 * Decodes framed IPC messages with apache-arrow's synchronous stream reader, a message at a time: each
 * record batch is decoded as soon as its own message is framed, with no await between its bytes and its
 * batch. The framer has already checked every length, so apache-arrow only ever sees whole, in-bounds
 * messages; anything it still throws becomes a `CORRUPT` error naming the batch and byte offset.
 * `framer` is an `IpcFramer`, or its `schemaOnly()` for the schema alone; `indexOf` numbers record
 * batches when `framer` holds only some of the source's.
 */
export async function openBatchStream<B = never>(
  framer: AsyncIterable<FramedMessage>,
  url: string,
  indexOf?: (message: FramedMessage) => number | undefined,
): Promise<BatchStream<B>> {
  registerCompressionCodecs();
  const messages = framer[Symbol.asyncIterator]();
  const state: DecodeState = {
    url,
    feed: new MessageFeed(),
    rewrite: null,
    current: null,
    unread: [],
    yielded: 0,
  };
  const timing = { decodeMs: 0, fetchWaitMs: 0 };
  const pull = async (): Promise<FramedMessage | null> => {
    const started = performance.now();
    const next = await messages.next();
    timing.fetchWaitMs += performance.now() - started;
    return next.done ? null : next.value;
  };
  const decode = <T>(step: () => T): T => {
    const started = performance.now();
    try {
      return step();
    } catch (error) {
      return failDecode(error, state, indexOf);
    } finally {
      timing.decodeMs += performance.now() - started;
    }
  };

  const first = await pull();
  if (first) feedMessage(first, state);
  const reader = first ? decode(() => RecordBatchReader.from(state.feed).open()) : null;
  state.unread = [];
  const schema = reader?.schema as Schema | undefined;
  if (!reader || !schema) {
    throw new DecodeError('NOT_ARROW', `${url} holds no Arrow schema message`, { url, byteOffset: 0 });
  }
  const iterator = reader[Symbol.iterator]();

  // apache-arrow keeps no state across record batches of a schema without dictionaries, read as is: a
  // direct reader may take them (see `BatchStream.direct`).
  let mayDirect = state.rewrite === null && schema.dictionaries.size === 0;
  /** The batch a direct reader makes of a record batch message; `null` when there is none or it declines. */
  const readDirect = (message: FramedMessage, index: number): B | null => {
    // A schema message after the first lays out the batches after it anew (apache-arrow's reader resets
    // to it): those are apache-arrow's to read, and checked against the plans as its batches are.
    if (message.header.kind === MessageKind.Schema) mayDirect = false;
    const direct = mayDirect && message.header.kind === MessageKind.RecordBatch ? stream.direct : null;
    if (!direct) return null;
    state.current = message;
    return decode(() => direct(message, index));
  };

  async function* batches(): AsyncGenerator<DecodedBatch<B>> {
    try {
      for (let message = await pull(); message; message = await pull()) {
        const readAt = performance.now();
        const index = indexOf?.(message) ?? state.yielded;
        let batch: RecordBatch | B | null = readDirect(message, index);
        if (batch === null) {
          if (!feedMessage(message, state) || message.header.kind !== MessageKind.RecordBatch) continue;
          const next = decode(() => iterator.next());
          if (next.done) failDecode(new Error('the stream ended before the batch'), state, indexOf);
          batch = next.value as RecordBatch;
        }
        state.unread = [];
        state.yielded++;
        yield decodedBatch(message, batch, index, readAt);
      }
      // Dictionary batches after the last record batch are decoded (and checked) all the same.
      if (state.feed.pending) decode(() => iterator.next());
    } finally {
      iterator.return?.();
    }
  }

  const stream: BatchStream<B> = {
    schema,
    layout: first?.header.layout ?? null,
    unreadable: state.rewrite?.columns ?? [],
    runEndEncoded: state.rewrite?.runEndEncoded ?? [],
    batches: batches(),
    direct: null,
    get decodeMs() {
      return timing.decodeMs;
    },
    get fetchWaitMs() {
      return timing.fetchWaitMs;
    },
  };
  return stream;
}

/** `batch` as the stream yields it, with where its message lay and what holds its body. */
function decodedBatch<B>(
  message: FramedMessage,
  batch: RecordBatch | B,
  index: number,
  readAt: number,
): DecodedBatch<B> {
  const { byteOffset, endOffset } = message;
  const pooledBody = message.pooled ? message.body : null;
  const heldBody = message.held ? message.body : null;
  return { batch, index, byteOffset, endOffset, pooledBody, heldBody, readAt };
}

/** What one `openBatchStream` keeps between messages. */
interface DecodeState {
  url: string;
  feed: MessageFeed;
  rewrite: SchemaRewrite | null;
  /** The message being decoded, for errors. */
  current: FramedMessage | null;
  /**
   * Messages fed and not decoded yet: the dictionary batches since the last record batch are decoded
   * with the next one, and an error may lie in any of them.
   */
  unread: FramedMessage[];
  yielded: number;
}

/** Feeds `message` to the reader as apache-arrow can read it; `false` when it is left out. */
function feedMessage(message: FramedMessage, state: DecodeState): boolean {
  state.current = message;
  if (message.header.kind === MessageKind.Schema) state.rewrite ??= SchemaRewrite.of(message);
  const prefix = state.rewrite ? state.rewrite.prefixOf(message) : message.prefix;
  if (prefix === null) return false; // a dictionary of columns taken out
  state.feed.push(prefix, message.body);
  state.unread.push(message);
  return true;
}

/** What apache-arrow (or the direct reader, making data as it does) threw, as `CORRUPT` naming the message. */
function failDecode(
  error: unknown,
  state: DecodeState,
  indexOf?: (message: FramedMessage) => number | undefined,
): never {
  if (error instanceof ArrowGpuError) throw error;
  const { url, current: at } = state;
  const batch = (at && indexOf?.(at)) ?? state.yielded;
  // The earliest message the error may lie in: a dictionary batch decoded along with this one.
  const from = state.unread.length > 1 ? (state.unread[0] as FramedMessage) : at;
  let where = at ? `batch ${batch} (message at byte ${at.byteOffset})` : 'the schema message';
  if (from && from !== at) where += ` or a dictionary batch before it (from byte ${from.byteOffset})`;
  throw new DecodeError(
    'CORRUPT',
    `${url} is corrupt in ${where}: its Arrow data could not be decoded (${String((error as Error)?.message ?? error)})`,
    { url, batch, byteOffset: from?.byteOffset ?? 0 },
    { cause: error },
  );
}
