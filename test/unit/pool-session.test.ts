import { describe, expect, it } from 'vitest';
import { type FramedMessage, IpcFramer } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { DecodePool } from '../../src/core/pipeline/pool/decode-pool.js';
import type { DecodeWorkerPort, ToDecoder } from '../../src/core/pipeline/pool/protocol.js';
import { encodeDataset, whole } from '../support/byte-sources.js';

// A load's share of the decode pool, against worker ports that only record what they are sent: a
// record batch's result is asked for once, when the loader wants it — with its message when it was
// wanted before it was sent, else by a `want` to the worker that holds it.

const URL = 'test://pool-session';
const BYTES = encodeDataset({ rows: 4000, batchRows: 1000, format: 'stream', columns: { a: 'f64' } });

interface RecordingPort extends DecodeWorkerPort {
  sent: ToDecoder[];
}

function recordingPort(): RecordingPort {
  const sent: ToDecoder[] = [];
  return { sent, post: (message) => sent.push(message), onMessage: null, onFailure: null, terminate() {} };
}

async function messages(): Promise<FramedMessage[]> {
  const out: FramedMessage[] = [];
  for await (const message of new IpcFramer(whole(BYTES), URL)) out.push(message);
  return out;
}

describe('PoolSession', () => {
  it('asks for each result once: in its message when wanted before it was sent, else with a want to its worker', async () => {
    const ports: RecordingPort[] = [];
    const pool = new DecodePool(() => {
      const port = recordingPort();
      ports.push(port);
      return port;
    });
    const [schema, ...rest] = (await messages()) as [FramedMessage, ...FramedMessage[]];
    const batches = rest.filter((m) => m.header.kind === MessageKind.RecordBatch);
    expect(batches).toHaveLength(4);
    const session = pool.open(2, URL, { bodyFile: null, minSourceWords: null }, schema);
    const sentOf = (index: number) =>
      ports.flatMap((p) =>
        p.sent.filter((m) => m.type === 'message' && m.batch === index).map((m) => ({ port: p, m })),
      );
    const sendOf = (index: number) => {
      const message = sentOf(index)[0]?.m;
      return message?.type === 'message' ? message.send : undefined;
    };
    const wantsOf = (index: number) =>
      ports.flatMap((p) => p.sent.filter((m) => m.type === 'want' && m.batch === index).map(() => p));

    for (const [i, message] of batches.slice(0, 2).entries()) void session.submit(message, i).catch(() => {});
    // Sent before anyone wanted them: each held by its worker.
    expect([0, 1].map(sendOf)).toEqual([false, false]);
    expect(new Set([0, 1].map((i) => sentOf(i)[0]?.port)).size).toBe(2); // one each: the least busy

    session.want(2); // batches 0 and 1 are out: a want each, to the worker that has it
    for (const i of [0, 1]) expect(wantsOf(i)).toEqual([sentOf(i)[0]?.port]);
    void session.submit(batches[2] as FramedMessage, 2).catch(() => {});
    void session.submit(batches[3] as FramedMessage, 3).catch(() => {});
    // Batch 2 was wanted before it went: its message says so, and no want follows; batch 3 was not.
    expect(sendOf(2)).toBe(true);
    expect(sendOf(3)).toBe(false);
    session.want(2);
    session.want(1);
    expect([0, 1, 2, 3].map((i) => wantsOf(i).length)).toEqual([1, 1, 0, 0]);
    session.want(3);
    expect(wantsOf(3)).toEqual([sentOf(3)[0]?.port]);
    session.close(new Error('done'));
    pool.terminate();
  });
});
