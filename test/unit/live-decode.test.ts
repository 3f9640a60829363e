import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { encodeDataset, gated } from '../support/byte-sources.js';
import { groupEnds } from '../support/ipc-groups.js';

// A live stream sends each batch as it is made and then waits: the decoder must hand out the schema,
// and then each batch, as soon as its own bytes have arrived, never waiting for the next message.

const URL = 'test://live';

const SPEC = {
  rows: 3000,
  batchRows: 700,
  format: 'stream',
  // A dictionary column: its dictionary message travels with the first batch.
  columns: { x: 'f32', y: 'f64', label: 'dict-utf8' },
  nulls: { y: 0.3 },
} as const;

/** Which of `promise` and `blocked` settles first: the decoder's answer, or the source being asked for more. */
async function first(
  promise: Promise<unknown>,
  blocked: Promise<void>,
): Promise<'answer' | 'asked for more'> {
  return Promise.race([promise.then(() => 'answer' as const), blocked.then(() => 'asked for more' as const)]);
}

describe('decoding a live stream', () => {
  it('yields the schema, then each batch, once its own bytes arrived, while the source waits for the next', async () => {
    const bytes = encodeDataset({ ...SPEC, columns: { ...SPEC.columns }, nulls: { ...SPEC.nulls } });
    const expected = tableFromIPC(bytes).batches;
    const ends = groupEnds(bytes);
    expect(ends.length).toBe(expected.length + 1);
    const gate = gated(bytes, ends);
    const opening = openBatchStream(new IpcFramer(gate.source, URL), URL);
    // Only the schema is out: the decoder must not need the first batch to know the schema.
    expect(await first(opening, gate.asked(1)), 'the schema').toBe('answer');
    const stream = await opening;
    expect(stream.schema.fields.map((f) => f.name)).toEqual(['x', 'y', 'label']);
    const batches = stream.batches[Symbol.asyncIterator]();
    for (const [k, want] of expected.entries()) {
      gate.release(); // batch k's bytes, and nothing after them
      const next = batches.next();
      expect(await first(next, gate.asked(k + 2)), `batch ${k}`).toBe('answer');
      const { value, done } = await next;
      expect(done).toBe(false);
      expect(value?.index).toBe(k);
      expect(value?.endOffset).toBe(ends[k + 1]);
      for (const name of ['x', 'y', 'label']) {
        expect(value?.batch.getChild(name)?.toArray(), `batch ${k} column ${name}`).toEqual(
          want.getChild(name)?.toArray(),
        );
      }
    }
    gate.release(); // the end-of-stream marker
    expect((await batches.next()).done).toBe(true);
  });
});
