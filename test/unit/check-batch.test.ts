import { Binary, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { checkBatch } from '../../src/core/columns/check-batch.js';
import type { PreparedBatch } from '../../src/core/columns/column-data.js';
import { planColumns } from '../../src/core/columns/type-plan.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { directReader } from '../../src/core/pipeline/direct-batch.js';
import { whole } from '../support/byte-sources.js';

const URL = 'test://check';

/** Checks every batch of `bytes` as the load does, read by apache-arrow or by the direct reader. */
async function check(bytes: Uint8Array, direct: boolean): Promise<string> {
  const stream = await openBatchStream<PreparedBatch>(new IpcFramer(whole(bytes), URL), URL);
  const { plans } = planColumns(stream.schema, {}, URL);
  if (direct) stream.direct = directReader(stream.schema, stream.layout, plans, URL);
  try {
    for await (const { batch, index } of stream.batches) {
      expect('slices' in batch).toBe(direct);
      if (!('slices' in batch)) checkBatch(batch, plans, { url: URL, batch: index, byteOffset: 0 });
    }
    return 'OK';
  } catch (error) {
    if (error instanceof ArrowGpuError) return error.code;
    throw error;
  }
}

describe('checkBatch and the direct reader check what the encoders read', () => {
  it('take text and binary whose values hold fewer bytes than rows (empty and null values)', async () => {
    const table = new Table({
      text: vectorFromArray([null, '', null, '', 'a'], new Utf8()),
      bytes: vectorFromArray([new Uint8Array(0), null, new Uint8Array(0), null, null], new Binary()),
    });
    const bytes = tableToIPC(table, 'stream');
    expect(await check(bytes, false)).toBe('OK');
    expect(await check(bytes, true)).toBe('OK');
  });

  it('fail offsets that reach past the values with CORRUPT', async () => {
    const table = new Table({ text: vectorFromArray(['ab', 'cd', 'ef'], new Utf8()) });
    const bytes = tableToIPC(table, 'stream');
    // The last offset (6) raised to 200: the third value would end past the 8-byte data buffer.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let patched = 0;
    for (let at = 0; at + 16 <= bytes.byteLength; at += 4) {
      if ([0, 2, 4, 6].every((v, i) => view.getInt32(at + i * 4, true) === v)) {
        view.setInt32(at + 12, 200, true);
        patched++;
      }
    }
    expect(patched).toBe(1);
    expect(await check(bytes, false)).toBe('CORRUPT');
    expect(await check(bytes, true)).toBe('CORRUPT');
  });
});
