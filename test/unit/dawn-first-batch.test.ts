import { describe, expect, it } from 'vitest';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { MAX_STAGING_BYTES, MIN_STAGING_BYTES, StagingRing } from '../../src/core/gpu/upload/staging-ring.js';
import { type PipelineInput, runPipeline } from '../../src/core/pipeline/load.js';
import { encodeDataset, gated } from '../support/byte-sources.js';
import { type DeviceProbe, until, withContext, withDevice } from '../support/dawn.js';
import { destroyColumns, expectedColumns, expectSameColumns, readColumns } from '../support/gpu-columns.js';
import { messageEnds } from '../support/ipc-groups.js';

// A load makes room for its first batch from that batch's header, while the body is still arriving:
// the first column chunks hold exactly that batch's rows (so its copy covers them whole), and the rest
// of the table goes into chunks sized from Content-Length once the first batch is on the GPU.

const NAMES = ['x', 'y', 'id', 'kind'];
const SPEC: DatasetSpec = {
  rows: 4 * 1024,
  batchRows: 1024,
  format: 'stream',
  columns: { x: 'f32', y: 'f64', id: 'i32', kind: 'u16' },
};

/** Where the first record batch's metadata ends (its body starts): the schema, then its prefix and metadata. */
function firstBodyStart(bytes: Uint8Array): number {
  const schemaEnd = (messageEnds(bytes)[0] as { end: number }).end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return schemaEnd + 8 + view.getInt32(schemaEnd + 4, true);
}

const bytes = encodeDataset(SPEC);

/** A staging load of `source`, whose length is known (as from Content-Length). */
function headerFirst(context: GpuContext, source: AsyncIterable<Uint8Array>): PipelineInput {
  return { gpu: context, source, url: 'test://first-batch', bytesTotal: bytes.byteLength, upload: 'staging' };
}

const columnBuffers = (probe: DeviceProbe) => probe.buffers.filter((b) => b.label.startsWith('column "'));

describe('the first batch, made room for from its header, on Dawn', () => {
  const batches = [...batchesOf(SPEC)];

  it('makes each column a chunk of the first batch rows before its body arrives; the rest lands in one more chunk, exactly', async () => {
    await withContext(async (context, probe) => {
      // Piece 0: the schema and the first batch's metadata; piece 1: the rest.
      const gate = gated(bytes, [firstBodyStart(bytes)]);
      const loading = runPipeline(headerFirst(context, gate.source));
      await until(() => columnBuffers(probe).length === NAMES.length, 'the first chunks to be made');
      // No body byte was handed out yet: the buffers came from the header alone.
      expect(gate.state.handedOut).toBe(1);
      expect(columnBuffers(probe).map((b) => b.size)).toEqual(NAMES.map(() => SPEC.batchRows * 4));
      gate.release();
      const table = await loading;
      expect(table.numRows).toBe(SPEC.rows);
      for (const column of table.columns) {
        expect(
          column.values.map((c) => c.rows),
          column.plan.name,
        ).toEqual([SPEC.batchRows, SPEC.rows - SPEC.batchRows]);
      }
      const images = await readColumns(context.device, context.tracker, table.numRows, table.columns);
      expectSameColumns(images, expectedColumns(batches, NAMES));
      destroyColumns(context.tracker, table.columns);
    });
  });

  it('a load that fails while its first chunks are being made leaves no column buffer once it rejects', async () => {
    await withContext(async (context, probe) => {
      const gate = gated(bytes, [firstBodyStart(bytes)]);
      const abort = new AbortController();
      const loading = runPipeline({ ...headerFirst(context, gate.source), signal: abort.signal });
      await until(() => gate.state.waitingFor === 1, 'the body to be asked for');
      abort.abort();
      const error = await loading.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArrowGpuError);
      expect((error as ArrowGpuError).code).toBe('ABORTED');
      expect(columnBuffers(probe).filter((b) => !b.destroyed)).toEqual([]);
      await context.ring.discardPrepared();
    });
  });
});

describe('staging ring prepared for a size, on Dawn', () => {
  it('prepare(bytes) makes a second slot of that size beside a smaller one, and an acquire of that size takes it', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      const staging = () => probe.live().filter((b) => (b.usage & GPUBufferUsage.MAP_WRITE) !== 0);
      ring.prepare(1 << 20, 0); // a first batch's slot: its size, no floor
      ring.prepare(MAX_STAGING_BYTES);
      await ring.prepared();
      expect(staging().map((b) => b.size)).toEqual([1 << 20, MAX_STAGING_BYTES]);
      const slot = await ring.acquire(2 << 20);
      expect(slot.buffer.size).toBe(MAX_STAGING_BYTES);
      ring.release(slot);
      ring.prepare(MAX_STAGING_BYTES); // a slot that size exists: nothing more is made
      await ring.prepared();
      expect(staging()).toHaveLength(2);
      ring.destroy();
      expect(tracker.count).toBe(0);
    });
  });

  it('a first batch takes a slot prepared small for it as it is; later acquires make slots of the usual size', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      const staging = () => probe.live().filter((b) => (b.usage & GPUBufferUsage.MAP_WRITE) !== 0);
      ring.prepare(300_000, 0);
      await ring.prepared();
      expect(staging().map((b) => b.size)).toEqual([2 ** 19]); // the next power of two
      const first = await ring.acquire(250_000, undefined, true);
      expect(first.buffer.size).toBe(2 ** 19);
      ring.release(first);
      const later = await ring.acquire(250_000);
      expect(later.buffer.size).toBe(MIN_STAGING_BYTES);
      ring.release(later);
      expect(staging().map((b) => b.size)).toEqual([MIN_STAGING_BYTES]);
      ring.destroy();
      expect(tracker.count).toBe(0);
    });
  });

  it("prepareSpare() makes a full slot beside the first batch's: the first batch takes its own, the next the full one, none made again", async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      const made = () => probe.buffers.filter((b) => (b.usage & GPUBufferUsage.MAP_WRITE) !== 0);
      ring.prepare(300_000, 0);
      ring.prepareSpare();
      await ring.prepared();
      expect(
        made()
          .map((b) => b.size)
          .sort((a, b) => a - b),
      ).toEqual([2 ** 19, MIN_STAGING_BYTES]);
      const first = await ring.acquire(250_000, undefined, true);
      expect(first.buffer.size).toBe(2 ** 19);
      const next = await ring.acquire(250_000); // while the first is held, as the second batch's would be
      expect(next.buffer.size).toBe(MIN_STAGING_BYTES);
      ring.release(first);
      ring.release(next);
      ring.prepareSpare(); // no slot without a buffer: nothing is made
      await ring.prepared();
      expect(made()).toHaveLength(2);
      ring.destroy();
      expect(tracker.count).toBe(0);
    });
  });

  it('a spare slot no load took is destroyed by discardPrepared (a load that failed before its first batch)', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      ring.prepareSpare();
      await ring.discardPrepared();
      const staging = probe.buffers.filter((b) => (b.usage & GPUBufferUsage.MAP_WRITE) !== 0);
      expect(staging.map((b) => [b.size, b.destroyed])).toEqual([[MIN_STAGING_BYTES, true]]);
      expect(tracker.count).toBe(0);
      ring.destroy();
    });
  });
});
