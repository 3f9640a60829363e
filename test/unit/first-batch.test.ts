import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FramedMessage } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { readToFirstBatch } from '../../src/core/pipeline/pool/first-batch.js';

// Reading a source's messages up to its first record batch, to tell the size of its batches, then
// handing every message on: nothing lost, nothing repeated, in order.

const KINDS = [MessageKind.Schema, MessageKind.DictionaryBatch, MessageKind.RecordBatch] as const;

/** Messages of the given kinds and lengths, one after another from byte 0. */
function messagesOf(parts: ReadonlyArray<{ kind: number; length: number }>): FramedMessage[] {
  let at = 0;
  return parts.map(({ kind, length }) => {
    const message = { header: { kind }, byteOffset: at, endOffset: at + length } as unknown as FramedMessage;
    at += length;
    return message;
  });
}

/** A framer that yields `messages` and records whether it was told to stop. */
function framerOf(messages: FramedMessage[]) {
  const state = { pulled: 0, returned: false };
  const framer: AsyncIterable<FramedMessage> = {
    [Symbol.asyncIterator]: () => ({
      next: async () =>
        state.pulled < messages.length
          ? { done: false, value: messages[state.pulled++] as FramedMessage }
          : { done: true, value: undefined },
      return: async () => {
        state.returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return { framer, state };
}

async function all(messages: AsyncIterable<FramedMessage>): Promise<FramedMessage[]> {
  const out: FramedMessage[] = [];
  for await (const message of messages) out.push(message);
  return out;
}

const part = fc.record({ kind: fc.constantFrom(...KINDS), length: fc.integer({ min: 8, max: 1 << 20 }) });

describe('readToFirstBatch', () => {
  it('gives the first record batch message’s length, and every message again, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(part, { maxLength: 12 }), async (parts) => {
        const messages = messagesOf(parts);
        const { framer, state } = framerOf(messages);
        const first = await readToFirstBatch(framer);
        const batch = messages.find((m) => m.header.kind === MessageKind.RecordBatch);
        expect(first.bytes).toBe(batch ? batch.endOffset - batch.byteOffset : null);
        // Read ahead no further than that batch.
        expect(state.pulled).toBe(batch ? messages.indexOf(batch) + 1 : messages.length);
        expect(await all(first.messages)).toEqual(messages);
      }),
    );
  });

  it('stopping early tells the framer', async () => {
    const messages = messagesOf([
      { kind: MessageKind.Schema, length: 64 },
      { kind: MessageKind.RecordBatch, length: 128 },
      { kind: MessageKind.RecordBatch, length: 128 },
      { kind: MessageKind.RecordBatch, length: 128 },
    ]);
    const { framer, state } = framerOf(messages);
    const first = await readToFirstBatch(framer);
    for await (const message of first.messages) if (message.byteOffset >= 64) break; // the first record batch, read ahead
    expect(state.returned).toBe(true);
    expect(state.pulled).toBe(2);
  });
});
