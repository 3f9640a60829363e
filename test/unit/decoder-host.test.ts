import { describe, expect, it } from 'vitest';
import type { SerializedError } from '../../src/core/errors.js';
import { type FramedMessage, IpcFramer } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { serveDecoder } from '../../src/core/pipeline/pool/decoder-host.js';
import type { BodyFile, FromDecoder, WireMessage } from '../../src/core/pipeline/pool/protocol.js';
import { ScratchBuffers } from '../../src/core/pipeline/pool/scratch-buffers.js';
import { encodeDataset, whole } from '../support/byte-sources.js';
import { until } from '../support/dawn.js';

// A decode worker's side, in this thread: record batches whose bodies the loader skipped are read by
// the worker at their offsets, and a read that fails or comes up short fails the batch with a typed
// error naming the byte offset.

const URL = 'file:///data.arrow';
/** Every column goes up as words made by the worker. */
const BYTES = encodeDataset({
  rows: 4000,
  batchRows: 1000,
  format: 'stream',
  columns: { a: 'f64', b: 'i32' },
  nulls: { b: 0.2 },
});
/** A dictionary column is encoded on the loader's thread from Arrow data (views of the body): the body moves. */
const WITH_LABELS = encodeDataset({
  rows: 2000,
  batchRows: 1000,
  format: 'stream',
  columns: { b: 'i32', label: 'utf8' },
});

async function messages(bytes = BYTES): Promise<FramedMessage[]> {
  const out: FramedMessage[] = [];
  for await (const message of new IpcFramer(whole(bytes), URL)) out.push(message);
  return out;
}

/** `BYTES` as a worker reads them; `short` cuts every read at that offset, `fail` throws at it. */
function bodyFile(
  options: { short?: number; fail?: number } = {},
  bytes = BYTES,
): BodyFile & { closed: boolean } {
  const file = {
    closed: false,
    readAt(target: Uint8Array, position: number): number {
      if (options.fail !== undefined && position >= options.fail) throw new Error('EIO: i/o error');
      const end = Math.min(position + target.byteLength, options.short ?? bytes.byteLength);
      const read = bytes.subarray(position, Math.max(position, end));
      target.set(read);
      return read.byteLength;
    },
    close() {
      file.closed = true;
    },
  };
  return file;
}

/** Serves one session whose record batches are all deferred; what the worker posted once it settles. */
async function serve(file: BodyFile | null, bytes = BYTES): Promise<FromDecoder[]> {
  const posted: FromDecoder[] = [];
  const all = await messages(bytes);
  const batches = all.filter((m) => m.header.kind === MessageKind.RecordBatch).length;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const handle = serveDecoder(
    (message) => {
      posted.push(message);
      if (message.type === 'error' || posted.length === batches) settle();
    },
    file ? { openBodyFile: () => file } : {},
  );
  const [schema, ...rest] = all as [FramedMessage, ...FramedMessage[]];
  const open = {
    type: 'open',
    session: 1,
    url: URL,
    options: {},
    schema,
    bodyFile: { path: '/data.arrow', stamp: '1:2:3:4' },
    minSourceWords: null,
  } as const;
  handle(open);
  let index = 0;
  for (const message of rest) {
    const deferred: WireMessage = { ...message, body: new Uint8Array(0), deferred: true };
    handle({ type: 'message', session: 1, message: deferred, batch: index++, send: true });
  }
  handle({ type: 'end', session: 1 });
  await settled;
  return posted;
}

describe('decode worker: bodies it reads itself', () => {
  it('reads each deferred body at its offset, decodes it as sent bodies are, and lends the body back', async () => {
    const file = bodyFile();
    const posted = await serve(file);
    const bodies = (await messages()).filter((m) => m.header.kind === MessageKind.RecordBatch);
    expect(posted.map((m) => m.type)).toEqual(['batch', 'batch', 'batch', 'batch']);
    for (const [i, message] of posted.entries()) {
      if (message.type !== 'batch') throw new Error('not a batch');
      const sent = bodies[i] as FramedMessage;
      const { batch } = message;
      expect(batch.index).toBe(i);
      expect(batch.numRows).toBe(1000);
      expect(batch.ownBody).toBe(true);
      expect([...batch.body]).toEqual([...sent.body]);
      // Column `b` (Int32, with nulls): its Arrow bytes and validity, views of the body the worker read.
      const region = (k: number) => sent.header.batch?.regions[k] as { offset: number; length: number };
      const bytesAt = (k: number) => [
        ...sent.body.subarray(region(k).offset, region(k).offset + region(k).length),
      ];
      const { words, bitmap } = batch.columns[1] as { words: Uint8Array; bitmap: Uint8Array };
      expect(words.buffer).toBe(batch.body.buffer);
      expect(bitmap.buffer).toBe(batch.body.buffer);
      expect([...words]).toEqual(bytesAt(3));
      expect([...bitmap]).toEqual(bytesAt(2).slice(0, bitmap.byteLength));
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(file.closed, 'the file closed once the session ended').toBe(true);
  });

  it('with a column encoded on the loader, the body the worker read crosses and is lent back', async () => {
    const posted = await serve(bodyFile({}, WITH_LABELS), WITH_LABELS);
    const bodies = (await messages(WITH_LABELS)).filter((m) => m.header.kind === MessageKind.RecordBatch);
    expect(posted.map((m) => m.type)).toEqual(['batch', 'batch']);
    for (const [i, message] of posted.entries()) {
      if (message.type !== 'batch') throw new Error('not a batch');
      const sent = bodies[i] as FramedMessage;
      expect(message.batch.ownBody).toBe(true);
      expect([...message.batch.body]).toEqual([...sent.body]);
      // `b` goes up as its Arrow bytes: a view of that body; `label` as Arrow data.
      const words = message.batch.columns[0]?.words as Uint8Array;
      expect(words.buffer).toBe(message.batch.body.buffer);
      expect(message.batch.columns[1]?.data).not.toBeNull();
    }
  });

  it('a body cut short fails the batch with TRUNCATED at the byte where the file ends', async () => {
    const all = await messages();
    const third = all.filter((m) => m.header.kind === MessageKind.RecordBatch)[2] as FramedMessage;
    const cut = third.bodyOffset + 100;
    const posted = await serve(bodyFile({ short: cut }));
    const failure = posted.at(-1) as Extract<FromDecoder, { type: 'error' }>;
    expect(failure.type).toBe('error');
    const error = failure.error as SerializedError;
    expect(error.code).toBe('TRUNCATED');
    expect(error.details.byteOffset).toBe(cut);
    expect(posted.filter((m) => m.type === 'batch').length).toBeLessThanOrEqual(2);
  });

  it('a read that throws fails with NETWORK naming the body offset; no reader fails the same way', async () => {
    const all = await messages();
    const second = all.filter((m) => m.header.kind === MessageKind.RecordBatch)[1] as FramedMessage;
    const posted = await serve(bodyFile({ fail: second.bodyOffset }));
    const error = (posted.at(-1) as Extract<FromDecoder, { type: 'error' }>).error as SerializedError;
    expect(error.code).toBe('NETWORK');
    expect(error.details.byteOffset).toBe(second.bodyOffset);
    expect(error.message).toContain('EIO');
    const none = (await serve(null)).at(-1) as Extract<FromDecoder, { type: 'error' }>;
    expect((none.error as SerializedError).code).toBe('NETWORK');
    expect(none.error.message).toMatch(/cannot read it/);
  });
});

describe('decode worker: results the loader has not asked for yet', () => {
  /** Opens session 1 over `BYTES`, sends its four record batches (deferred), `send` for those in `sendNow`. */
  async function open(sendNow: number[], scratch = new ScratchBuffers()) {
    const posted: Extract<FromDecoder, { type: 'batch' }>[] = [];
    const handle = serveDecoder(
      (message) => {
        if (message.type !== 'batch') throw new Error(`unexpected ${message.type}`);
        posted.push(message);
      },
      { openBodyFile: () => bodyFile() },
      scratch,
    );
    const [schema, ...rest] = (await messages()) as [FramedMessage, ...FramedMessage[]];
    const bodyFileSpec = { path: '/data.arrow', stamp: '1:2:3:4' };
    handle({
      type: 'open',
      session: 1,
      url: URL,
      options: {},
      schema,
      bodyFile: bodyFileSpec,
      minSourceWords: null,
    });
    for (const [batch, message] of rest.entries()) {
      const deferred: WireMessage = { ...message, body: new Uint8Array(0), deferred: true };
      handle({ type: 'message', session: 1, message: deferred, batch, send: sendNow.includes(batch) });
    }
    handle({ type: 'end', session: 1 });
    return { posted, handle };
  }

  /** Long enough for the worker to decode four small batches (each takes well under a millisecond). */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('holds each result until it is wanted, posts it then, and still serves wants once every batch is decoded', async () => {
    const { posted, handle } = await open([0]);
    await until(() => posted.length === 1, 'batch 0, sent at once');
    await settle();
    expect(posted.map((m) => m.batch.index)).toEqual([0]);
    // Held results go out as they are wanted, in any order, after the session decoded its last batch.
    handle({ type: 'want', session: 1, batch: 2 });
    handle({ type: 'want', session: 1, batch: 1 });
    handle({ type: 'want', session: 1, batch: 3 });
    expect(posted.map((m) => m.batch.index)).toEqual([0, 2, 1, 3]);
    for (const { batch } of posted) expect(batch.numRows).toBe(1000);
  });

  it('posts a batch wanted before it is ready as soon as it is decoded', async () => {
    const { posted, handle } = await open([]);
    handle({ type: 'want', session: 1, batch: 3 });
    await until(() => posted.length === 1, 'batch 3, wanted early');
    expect(posted[0]?.batch.index).toBe(3);
  });

  it('posts nothing it held once the loader closed the session, and keeps the buffers those results held', async () => {
    const scratch = new ScratchBuffers();
    const { posted, handle } = await open([], scratch);
    await settle();
    // Every batch is held: each took a body it read and a scratch buffer for its words.
    expect(scratch.kept).toBe(0);
    expect(scratch.allocations).toBe(8);
    handle({ type: 'close', session: 1 });
    expect(scratch.kept).toBe(6); // as many as a worker keeps
    for (const batch of [0, 1, 2, 3]) handle({ type: 'want', session: 1, batch });
    await settle();
    expect(posted).toEqual([]);
  });
});
