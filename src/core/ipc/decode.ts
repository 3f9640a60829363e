import { type RecordBatch, RecordBatchReader, type Schema } from 'apache-arrow';
import { ArrowGpuError, DecodeError } from '../errors.js';
import { registerCompressionCodecs } from './compression/codecs.js';
import type { FramedMessage } from './framer.js';
import { MessageKind } from './metadata/message.js';
import { SchemaRewrite, type UnreadableColumn } from './schema-rewrite.js';

const EMPTY = new Uint8Array(0);

/** A decoded record batch and where its message began. */
export interface DecodedBatch {
  batch: RecordBatch;
  /** Index among the record batches of the source. */
  index: number;
  /** Offset of the batch's message in the source bytes. */
  byteOffset: number;
  /** Offset just past the batch's message. */
  endOffset: number;
  /** The pooled buffer holding the message body, to release once the batch is uploaded; else `null`. */
  pooledBody: Uint8Array | null;
  /** When (`performance.now()`) the loader had read the last byte of the batch's message. */
  readAt: number;
}

/** The schema of an IPC source and its batches, decoded as the bytes arrive. */
export interface BatchStream {
  /** The schema apache-arrow decodes: without the `unreadable` columns. */
  schema: Schema;
  /** Columns taken out because apache-arrow cannot decode their type (ListView…). */
  unreadable: readonly UnreadableColumn[];
  /**
   * Paths (field indices from the top level down) of the RunEndEncoded fields in `schema`, which
   * apache-arrow decodes as the struct of their `run_ends` and `values`: the runs are not expanded.
   */
  runEndEncoded: readonly (readonly number[])[];
  batches: AsyncIterable<DecodedBatch>;
  /** Milliseconds apache-arrow spent decoding, waiting for bytes excluded. */
  readonly decodeMs: number;
  /** Milliseconds spent waiting for bytes from the source. */
  readonly fetchWaitMs: number;
}

/**
 * Decodes framed IPC messages with apache-arrow's stream reader. The framer has already checked every
 * length, so apache-arrow only ever sees whole, in-bounds messages; anything it still throws becomes a
 * `CORRUPT` error naming the batch and byte offset. `framer` is an `IpcFramer`, or its `schemaOnly()`
 * for the schema alone; `indexOf` numbers record batches when `framer` holds only some of the source's.
 */
export async function openBatchStream(
  framer: AsyncIterable<FramedMessage>,
  url: string,
  indexOf?: (message: FramedMessage) => number | undefined,
): Promise<BatchStream> {
  registerCompressionCodecs();
  // apache-arrow may pull the next message before it yields a batch, so the record batch messages
  // pulled but not yet yielded wait here, oldest first.
  const pulled: { message: FramedMessage; readAt: number }[] = [];
  let last: FramedMessage | null = null;
  let recordBatches = 0;
  let yielded = 0;
  let fetchWaitMs = 0;
  let decodeMs = 0;
  let rewrite: SchemaRewrite | null = null;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const messages = framer[Symbol.asyncIterator]();
    for (;;) {
      const waitStart = performance.now();
      const next = await messages.next();
      fetchWaitMs += performance.now() - waitStart;
      if (next.done) return;
      const message = next.value;
      last = message;
      if (message.header.kind === MessageKind.Schema) rewrite ??= SchemaRewrite.of(message);
      const prefix = rewrite ? rewrite.prefixOf(message) : message.prefix;
      if (prefix === null) continue; // a dictionary of columns taken out
      if (message.header.kind === MessageKind.RecordBatch) {
        recordBatches++;
        pulled.push({ message, readAt: performance.now() });
      }
      // An empty chunk after each part: apache-arrow's byte queue asks for one more chunk when a read
      // takes exactly the bytes it holds, so without it a message would decode only once the next one
      // had arrived, and on a live stream every batch would wait for the next.
      yield prefix;
      yield EMPTY;
      if (message.body.byteLength > 0) {
        yield message.body;
        yield EMPTY;
      }
    }
  }

  const fail = (error: unknown): never => {
    if (error instanceof ArrowGpuError) throw error;
    const at = pulled[0]?.message ?? last;
    const batch = (at && indexOf?.(at)) ?? yielded;
    const where = at ? `batch ${batch} (message at byte ${at.byteOffset})` : 'the schema message';
    throw new DecodeError(
      'CORRUPT',
      `${url} is corrupt in ${where}: apache-arrow could not decode it (${String((error as Error)?.message ?? error)})`,
      { url, batch, byteOffset: at?.byteOffset ?? 0 },
      { cause: error },
    );
  };

  const started = performance.now();
  const reader = await RecordBatchReader.from(chunks()).catch(fail);
  await reader.open().catch(fail);
  decodeMs += performance.now() - started - fetchWaitMs;
  const schema = reader.schema as Schema | undefined;
  if (!schema) {
    throw new DecodeError('NOT_ARROW', `${url} holds no Arrow schema message`, { url, byteOffset: 0 });
  }

  async function* batches(): AsyncGenerator<DecodedBatch> {
    const iterator = reader[Symbol.asyncIterator]();
    try {
      for (;;) {
        const waitBefore = fetchWaitMs;
        const t0 = performance.now();
        const next = await iterator.next().catch(fail);
        decodeMs += performance.now() - t0 - (fetchWaitMs - waitBefore);
        if (next.done) return;
        // apache-arrow yields an empty placeholder batch for a source with no batches at all.
        if (recordBatches === 0) continue;
        const { message, readAt } = pulled.shift() as { message: FramedMessage; readAt: number };
        const byteOffset = message.byteOffset;
        const endOffset = message.endOffset;
        const pooledBody = message.pooled ? message.body : null;
        const index = indexOf?.(message) ?? yielded;
        yielded++;
        yield { batch: next.value, index, byteOffset, endOffset, pooledBody, readAt };
      }
    } finally {
      await iterator.return?.().catch(() => {});
    }
  }

  return {
    schema,
    unreadable: (rewrite as SchemaRewrite | null)?.columns ?? [],
    runEndEncoded: (rewrite as SchemaRewrite | null)?.runEndEncoded ?? [],
    batches: batches(),
    get decodeMs() {
      return decodeMs;
    },
    get fetchWaitMs() {
      return fetchWaitMs;
    },
  };
}
