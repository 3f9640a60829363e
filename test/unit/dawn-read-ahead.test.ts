import { describe, expect, it } from 'vitest';
import type { DatasetSpec } from '../../scripts/datasets.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import { DEFAULT_READ_AHEAD_BYTES, runPipeline } from '../../src/core/pipeline/load.js';
import { encodeDataset } from '../support/byte-sources.js';
import { withContext } from '../support/dawn.js';

// A load reads its source ahead of decoding, so that a download keeps flowing while the GPU path is
// busy: up to 32 MiB (less what batches hold in the queue). A source that another thread already reads
// ahead (a read worker) keeps that lead there: the load then reads a chunk (2 MiB) ahead of it.

const MiB = 1 << 20;
/** 48 MiB of 1 MiB record batches: more than the read-ahead. */
const SPEC: DatasetSpec = { rows: 12 << 20, batchRows: 1 << 18, format: 'stream', columns: { v: 'i32' } };
const bytes = encodeDataset(SPEC);

/** Bytes the load had taken from a source of 1 MiB pieces by the time its first rows landed. */
async function takenByFirstRows(readsAhead: boolean): Promise<number> {
  return withContext(async (context) => {
    let taken = 0;
    const source = (async function* () {
      for (let at = 0; at < bytes.byteLength; at += MiB) {
        taken = Math.min(at + MiB, bytes.byteLength);
        yield bytes.subarray(at, at + MiB);
      }
    })();
    const abort = new AbortController();
    let atFirstRows = -1;
    const loading = runPipeline({
      ...{ gpu: context, source, sourceReadsAhead: readsAhead, url: 'test://read-ahead' },
      ...{ bytesTotal: bytes.byteLength, upload: 'staging', signal: abort.signal },
      onUpdate: () => {
        if (atFirstRows >= 0) return;
        atFirstRows = taken;
        abort.abort(); // nothing more to learn: the rest need not load
      },
    });
    const error = await loading.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArrowGpuError);
    expect((error as ArrowGpuError).code).toBe('ABORTED');
    await context.ring.discardPrepared();
    return atFirstRows;
  });
}

describe('how far a load reads its source ahead, on Dawn', () => {
  it('reads up to its budget ahead of a plain source, and a chunk past the batches in hand ahead of one read ahead elsewhere', async () => {
    const plain = await takenByFirstRows(false);
    const elsewhere = await takenByFirstRows(true);
    // By its first rows a load holds a few 1 MiB batches (uploaded, queued, decoding, being read): the
    // rest of what it took is its read-ahead.
    expect(plain, 'a plain source: its budget').toBeGreaterThanOrEqual(DEFAULT_READ_AHEAD_BYTES - 2 * MiB);
    expect(elsewhere, 'read ahead elsewhere: a chunk past the batches').toBeLessThan(
      DEFAULT_READ_AHEAD_BYTES / 2,
    );
  });
});
