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
  /** Milliseconds spent decoding (apache-arrow or the direct reader), waiting for bytes excluded. */
  readonly decodeMs: number;
  /** Milliseconds spent waiting for bytes from the source. */
  readonly fetchWaitMs: number;
}

/**
 * Decodes framed IPC messages with apache-arrow's synchronous stream reader, a message at a time: each
 * record batch is decoded as soon as its own message is framed, with no await between its bytes and its
 * batch. The framer has already checked every length, so apache-arrow only ever sees whole, in-bounds
 * messages; anything it still throws becomes a `CORRUPT` error naming the batch and byte offset. A
 * `direct` reader set on the stream may take record batches instead. `framer` is an `IpcFramer`, or its `schemaOnly()` for the schema alone; `indexOf` numbers record
 * batches when `framer` holds only some of the source's.
 */
export async function openBatchStream<B = never>(
  framer: AsyncIterable<FramedMessage>,
  url: string,
  indexOf?: (message: FramedMessage) => number | undefined,
): Promise<BatchStream<B>> {
  registerCompressionCodecs();
  const decoder = new MessageDecoder<B>(framer, url, indexOf);
  const { schema, layout } = await decoder.open();

  async function* batches(): AsyncGenerator<DecodedBatch<B>> {
    try {
      for (let message = await decoder.pull(); message; message = await decoder.pull()) {
        const readAt = performance.now();
        const index = indexOf?.(message) ?? decoder.state.yielded;
        const batch = decoder.batchOf(message, index, stream.direct);
        if (batch === null) continue;
        decoder.state.yielded++;
        yield decodedBatch(message, batch, index, readAt);
      }
      decoder.decodeTrailingDictionaries();
    } finally {
      decoder.close();
    }
  }

  const { rewrite } = decoder.state;
  const stream: BatchStream<B> = {
    schema,
    layout,
    unreadable: rewrite?.columns ?? [],
    runEndEncoded: rewrite?.runEndEncoded ?? [],
    batches: batches(),
    direct: null,
    get decodeMs() {
      return decoder.decodeMs;
    },
    get fetchWaitMs() {
      return decoder.fetchWaitMs;
    },
  };
  return stream;
}

/**
 * One source's framed messages, decoded in turn by apache-arrow's reader (or a direct reader), with the
 * time spent waiting and decoding counted and what the decoding throws named as `CORRUPT`.
 */
class MessageDecoder<B> {
  readonly state: DecodeState;
  decodeMs = 0;
  fetchWaitMs = 0;
  readonly #messages: AsyncIterator<FramedMessage>;
  readonly #indexOf?: (message: FramedMessage) => number | undefined;
  #reader: Iterator<RecordBatch> | null = null;
  /**
   * Whether a direct reader may take record batches: apache-arrow keeps no state across those of a
   * schema without dictionaries, read as is (see `BatchStream.direct`).
   */
  #mayDirect = false;

  constructor(
    framer: AsyncIterable<FramedMessage>,
    url: string,
    indexOf?: (message: FramedMessage) => number | undefined,
  ) {
    this.#messages = framer[Symbol.asyncIterator]();
    this.#indexOf = indexOf;
    this.state = { url, feed: new MessageFeed(), rewrite: null, current: null, unread: [], yielded: 0 };
  }

  /** Reads the schema from the first message; `NOT_ARROW` when there is none. */
  async open(): Promise<{ schema: Schema; layout: SchemaLayout | null }> {
    const { state } = this;
    const first = await this.pull();
    if (first) feedMessage(first, state);
    const reader = first ? this.#decode(() => RecordBatchReader.from(state.feed).open()) : null;
    state.unread = [];
    const schema = reader?.schema as Schema | undefined;
    if (!reader || !schema) {
      const { url } = state;
      throw new DecodeError('NOT_ARROW', `${url} holds no Arrow schema message`, { url, byteOffset: 0 });
    }
    this.#reader = reader[Symbol.iterator]();
    this.#mayDirect = state.rewrite === null && schema.dictionaries.size === 0;
    return { schema, layout: first?.header.layout ?? null };
  }

  /** The next framed message, or `null` after the last. */
  async pull(): Promise<FramedMessage | null> {
    const started = performance.now();
    const next = await this.#messages.next();
    this.fetchWaitMs += performance.now() - started;
    return next.done ? null : next.value;
  }

  /**
   * The batch of `message` (record batch `index`): `direct`'s when it takes it, else apache-arrow's;
   * `null` for any other message (a dictionary batch is decoded with the next record batch).
   */
  batchOf(message: FramedMessage, index: number, direct: DirectRead<B> | null): RecordBatch | B | null {
    const { state } = this;
    // A schema message after the first lays out the batches after it anew (apache-arrow's reader resets
    // to it): those are apache-arrow's to read, and checked against the plans as its batches are.
    if (message.header.kind === MessageKind.Schema) this.#mayDirect = false;
    const isBatch = message.header.kind === MessageKind.RecordBatch;
    if (isBatch && direct && this.#mayDirect) {
      state.current = message;
      const batch = this.#decode(() => direct(message, index));
      if (batch !== null) return batch;
    }
    if (!feedMessage(message, state) || !isBatch) return null;
    const next = this.#decode(() => (this.#reader as Iterator<RecordBatch>).next());
    if (next.done) failDecode(new Error('the stream ended before the batch'), state, this.#indexOf);
    state.unread = [];
    return next.value as RecordBatch;
  }

  /** Decodes (and so checks) the dictionary batches after the last record batch. */
  decodeTrailingDictionaries(): void {
    if (this.state.feed.pending) this.#decode(() => this.#reader?.next());
  }

  close(): void {
    this.#reader?.return?.();
  }

  /** Runs a decoding step, timed; what it throws becomes `CORRUPT` naming the message. */
  #decode<T>(step: () => T): T {
    const started = performance.now();
    try {
      return step();
    } catch (error) {
      return failDecode(error, this.state, this.#indexOf);
    } finally {
      this.decodeMs += performance.now() - started;
    }
  }
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
