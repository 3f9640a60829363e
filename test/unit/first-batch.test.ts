import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FramedMessage } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { readToFirstBatch } from '../../src/core/pipeline/pool/first-batch.js';

// Reading a source's messages up to its first record batch's header, to tell the size of its batches
// while that batch's body is still to come, then handing every message on: nothing lost, nothing
// repeated, in order.

const KINDS = [MessageKind.Schema, MessageKind.DictionaryBatch, MessageKind.RecordBatch] as const;

/** Messages of the given kinds, one after another from byte 0. */
function messagesOf(kinds: readonly number[]): FramedMessage[] {
  return kinds.map(
    (kind, i) =>
      ({ header: { kind }, byteOffset: i * 100, endOffset: i * 100 + 100 }) as unknown as FramedMessage,
  );
}

/**
 * A framer over `messages` that, as a real one does, reports a message's header (`onHeader`) before its
 * body has come: `next` calls it at once, and answers a macrotask later.
 */
function framerOf(messages: FramedMessage[], onHeader: (message: FramedMessage) => void) {
  const state = { pulled: 0, answered: 0, returned: false };
  const framer: AsyncIterable<FramedMessage> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        if (state.pulled >= messages.length) return Promise.resolve({ done: true, value: undefined });
        const message = messages[state.pulled++] as FramedMessage;
        onHeader(message);
        return new Promise((resolve) =>
          setTimeout(() => {
            state.answered++;
            resolve({ done: false, value: message });
          }, 0),
        );
      },
      return: async () => {
        state.returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return { framer, state };
}

/** The first record batch's header, as `load` tells it: a promise settled by `onHeader`. */
function firstHeader() {
  let seen = () => {};
  const promise = new Promise<void>((resolve) => {
    seen = resolve;
  });
  const onHeader = (message: FramedMessage) => {
    if (message.header.kind === MessageKind.RecordBatch) seen();
  };
  return { promise, onHeader };
}

async function all(messages: AsyncIterable<FramedMessage>): Promise<FramedMessage[]> {
  const out: FramedMessage[] = [];
  for await (const message of messages) out.push(message);
  return out;
}

describe('readToFirstBatch', () => {
  it('stops at the first record batch’s header, its body still to come, and hands every message on in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...KINDS), { maxLength: 12 }), async (kinds) => {
        const messages = messagesOf(kinds);
        const header = firstHeader();
        const { framer, state } = framerOf(messages, header.onHeader);
        const first = await readToFirstBatch(framer, header.promise);
        const batch = kinds.indexOf(MessageKind.RecordBatch);
        // Pulled up to that batch, whose message has not come yet; or everything when there is none.
        expect(state.pulled).toBe(batch >= 0 ? batch + 1 : messages.length);
        expect(state.answered).toBe(batch >= 0 ? batch : messages.length);
        expect(await all(first.messages)).toEqual(messages);
      }),
    );
  });

  it('stopping early tells the framer', async () => {
    const messages = messagesOf([MessageKind.Schema, MessageKind.RecordBatch, MessageKind.RecordBatch]);
    const header = firstHeader();
    const { framer, state } = framerOf(messages, header.onHeader);
    const first = await readToFirstBatch(framer, header.promise);
    for await (const message of first.messages) if (message.header.kind === MessageKind.RecordBatch) break;
    expect(state.returned).toBe(true);
    expect(state.pulled).toBe(2);
  });
});
