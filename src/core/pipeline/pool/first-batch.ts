import type { FramedMessage } from '../../ipc/framer.js';
import { MessageKind } from '../../ipc/metadata/message.js';

/**
 * Record batch bodies smaller than this are decoded on the loader's thread unless decode workers were
 * asked for: sending one to a worker and its columns back costs more than decoding it. Measured in
 * Chromium with 4 workers on 16 cores: 295 KB batches loaded 14% faster on the loader's thread, 18 MiB
 * batches 16% faster on the workers.
 */
export const MIN_POOLED_BATCH_BYTES = 2 << 20;

/** A source's messages up to its first record batch's header, and the whole sequence again. */
export interface FirstBatch {
  /** Every message of the source, those read ahead first, then the one whose body was being read. */
  messages: AsyncIterable<FramedMessage>;
  /** Milliseconds spent waiting for the messages read ahead. */
  waitMs: number;
}

/**
 * Reads messages (the schema, dictionary batches) until `headerSeen` settles: the framer has read the
 * first record batch's header (its `onHeader`), so the size of the source's batches is known while that
 * batch's body is still to come. Ends as well at a record batch message, or at the end of the source.
 */
export async function readToFirstBatch(
  framer: AsyncIterable<FramedMessage>,
  headerSeen: Promise<void>,
): Promise<FirstBatch> {
  const iterator = framer[Symbol.asyncIterator]();
  const head: FramedMessage[] = [];
  const started = performance.now();
  const seen = headerSeen.then(() => null);
  for (;;) {
    const pending = iterator.next();
    const next = await Promise.race([pending, seen]);
    if (next === null)
      return { messages: replay(head, pending, iterator), waitMs: performance.now() - started };
    if (next.done) return { messages: replay(head, null, null), waitMs: performance.now() - started };
    head.push(next.value);
    if (next.value.header.kind === MessageKind.RecordBatch) {
      return { messages: replay(head, null, iterator), waitMs: performance.now() - started };
    }
  }
}

/** `head`, then what `pending` gives, then what `rest` still yields. */
function replay(
  head: FramedMessage[],
  pending: Promise<IteratorResult<FramedMessage>> | null,
  rest: AsyncIterator<FramedMessage> | null,
): AsyncIterable<FramedMessage> {
  return {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      let waiting = pending;
      const end = { done: true, value: undefined } as const;
      return {
        next: async () => {
          if (i < head.length) return { done: false, value: head[i++] as FramedMessage };
          if (waiting) {
            const next = waiting;
            waiting = null;
            return next;
          }
          return rest ? rest.next() : end;
        },
        return: async () => (rest?.return ? rest.return() : end),
      };
    },
  };
}
