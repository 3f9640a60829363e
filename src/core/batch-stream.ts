import { type RecordBatch, RecordBatchReader, type Schema } from 'apache-arrow';
import { ArrowGpuError, DecodeError } from './errors.js';
import type { FramedMessage, IpcFramer } from './ipc-framer.js';
import { MessageKind } from './message-header.js';

/** A decoded record batch and where its message began. */
export interface DecodedBatch {
  batch: RecordBatch;
  /** Index among the record batches of the source. */
  index: number;
  /** Offset of the batch's message in the source bytes. */
  byteOffset: number;
  /** Offset just past the batch's message. */
  endOffset: number;
}

/** The schema of an IPC source and its batches, decoded as the bytes arrive. */
export interface BatchStream {
  schema: Schema;
  batches: AsyncIterable<DecodedBatch>;
  /** Milliseconds apache-arrow spent decoding, waiting for bytes excluded. */
  readonly decodeMs: number;
  /** Milliseconds spent waiting for bytes from the source. */
  readonly fetchWaitMs: number;
}

/**
 * Decodes framed IPC messages with apache-arrow's stream reader. The framer has already checked every
 * length, so apache-arrow only ever sees whole, in-bounds messages; anything it still throws becomes a
 * `CORRUPT` error naming the batch and byte offset.
 */
export async function openBatchStream(framer: IpcFramer, url: string): Promise<BatchStream> {
  let current: FramedMessage | null = null;
  let batchIndex = -1;
  let fetchWaitMs = 0;
  let decodeMs = 0;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const messages = framer[Symbol.asyncIterator]();
    for (;;) {
      const waitStart = performance.now();
      const next = await messages.next();
      fetchWaitMs += performance.now() - waitStart;
      if (next.done) return;
      current = next.value;
      if (current.header.kind === MessageKind.RecordBatch) batchIndex++;
      yield current.prefix;
      if (current.body.byteLength > 0) yield current.body;
    }
  }

  const fail = (error: unknown): never => {
    if (error instanceof ArrowGpuError) throw error;
    const where = current
      ? `batch ${Math.max(batchIndex, 0)} (message at byte ${current.byteOffset})`
      : 'the schema message';
    throw new DecodeError(
      'CORRUPT',
      `${url} is corrupt in ${where}: apache-arrow could not decode it (${String((error as Error)?.message ?? error)})`,
      { url, batch: Math.max(batchIndex, 0), byteOffset: current?.byteOffset ?? 0 },
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
        const message = current as FramedMessage | null;
        const byteOffset = message?.byteOffset ?? 0;
        const endOffset = byteOffset + (message ? message.prefix.byteLength + message.body.byteLength : 0);
        yield { batch: next.value, index: batchIndex, byteOffset, endOffset };
      }
    } finally {
      await iterator.return?.().catch(() => {});
    }
  }

  return {
    schema,
    batches: batches(),
    get decodeMs() {
      return decodeMs;
    },
    get fetchWaitMs() {
      return fetchWaitMs;
    },
  };
}
