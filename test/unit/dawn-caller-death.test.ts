import { describe, expect, it } from 'vitest';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';
import { WorkerFailedError } from '../../src/core/errors.js';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { GpuContext } from '../../src/core/gpu/device-context.js';
import type { DeviceChannel, RemoteDeviceInfo } from '../../src/core/gpu/remote/device-channel.js';
import { DeviceWriter, WRITE_SLICE_BYTES } from '../../src/core/gpu/remote/device-writer.js';
import { RemoteGpu } from '../../src/core/gpu/remote/remote-gpu.js';
import { TaskSlicer } from '../../src/core/gpu/remote/task-slicer.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import { CallerTables } from '../../src/core/service/caller-tables.js';
import { remoteTableSpec } from '../../src/core/service/remote-table.js';
import { encodeDataset, streamed, trickle } from '../support/byte-sources.js';
import { withDevice } from '../support/dawn.js';
import { expectedColumns, expectSameColumns, readColumns } from '../support/gpu-columns.js';

// The caller's side of a loader given a device, when the worker that loads onto it dies mid-load. The
// "worker" here is a load running over a channel that can be cut: past the cut, its writes are held (as
// messages still in the port when the worker died) and never answered, so that load hangs as a dead
// worker's would. What the caller's side must do at the death is checked on Dawn: the buffers of loads
// in flight destroyed at once, tables still filling failed, loaded tables kept and readable, and calls
// that arrive late making and writing nothing.

/** Several batches, nulls and a widened column: values and validity chunks reach the writer. */
const SPEC: DatasetSpec = {
  rows: 30_007,
  batchRows: 2_503,
  format: 'stream',
  columns: { id: 'u32', v: 'f64', n: 'u8', flag: 'i16' },
  nulls: { v: 0.1, flag: 0.3 },
  seed: 11,
};
const NAMES = ['id', 'v', 'n', 'flag'];

/** A call the worker made after the cut: never answered, delivered (or not) by the test. */
interface Held {
  kind: 'write';
  run: () => Promise<unknown>;
}

/** A channel to `tables`' writer that forwards every call until the cut, then holds every write. */
function cuttable(tables: CallerTables) {
  const writer = tables.writer;
  const state = { writes: 0, cutAfterWrites: Number.POSITIVE_INFINITY, held: [] as Held[] };
  const never = new Promise<never>(() => {});
  const open = () => state.writes < state.cutAfterWrites;
  const channel: DeviceChannel = {
    // Creates are answered past the cut too: a held create would stall the load before its next write,
    // and whether one comes first depends on timing. Late creates are checked directly below.
    create: (spec) => writer.create(spec),
    write: (bytes, writes, session) => {
      if (open()) {
        state.writes++;
        return writer.write(bytes, writes, session);
      }
      const copy = bytes.slice(0);
      state.held.push({ kind: 'write', run: () => writer.write(copy, writes, session) });
      return never;
    },
    destroy: (ids) => (open() ? writer.destroy(ids) : never),
    done: (session) => (open() ? writer.done(session) : never),
    settled: (session) => (open() ? writer.settled(session) : never),
  };
  return { channel, state };
}

function infoOf(device: GPUDevice): RemoteDeviceInfo {
  const { maxBufferSize, maxStorageBufferBindingSize } = device.limits;
  return { maxBufferSize, maxStorageBufferBindingSize, vendor: 'dawn', architecture: '', description: '' };
}

/** The buffers of a table held by `tables`. */
function buffersOf(tables: CallerTables, tableId: number): GPUBuffer[] {
  return tables
    .loaded(tableId)
    .columns.flatMap((c) => [...c.values, ...(c.validity ?? [])].map((k) => k.buffer));
}

describe('the caller’s side when the loader’s worker dies, on Dawn', () => {
  it('destroys the buffers of a load in flight and of a filling table at once, keeps a loaded table readable, and makes nothing for calls that come late', async () => {
    const bytes = encodeDataset(SPEC);
    await withDevice(async (device, probe) => {
      const tables = new CallerTables(device);
      const { channel, state } = cuttable(tables);
      const gpu = await GpuContext.open(
        new RemoteGpu(channel, infoOf(device), new Promise(() => {})).asGpu(),
        () => {},
      );
      const load = (source: AsyncIterable<Uint8Array> = streamed(bytes, 4096)) =>
        runPipeline({
          ...{ gpu, source, url: 'test://byod', bytesTotal: bytes.byteLength },
          ...{ columns: NAMES, upload: 'staging' },
        });
      const loaded = tables.add(remoteTableSpec(await load())).tableId;
      // A table the worker was still filling (as `open` makes one): the death fails it.
      const filling = tables.add(remoteTableSpec(await load())).tableId;
      const fillingBuffers = buffersOf(tables, filling);
      const kept = buffersOf(tables, loaded);

      // The third load's worker dies after its second write: it hangs, holding what it sent after. Its
      // bytes come a few milliseconds apart, so that its batches go up in several writes, whatever the
      // machine's speed (batches that arrive together share one).
      state.cutAfterWrites = state.writes + 2;
      void load(trickle(bytes, { chunkSize: 4096, delayMs: 3 }).source).catch(() => {});
      const deadline = Date.now() + 10_000;
      while (!state.held.some((h) => h.kind === 'write') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(
        state.held.map((h) => h.kind),
        'calls of the third load past the cut',
      ).toContain('write');
      const inFlight = probe.buffers.filter(
        (b) => !kept.includes(b.buffer) && !fillingBuffers.includes(b.buffer),
      );
      expect(inFlight.filter((b) => !b.destroyed).length, 'buffers the third load made').toBeGreaterThan(0);

      tables.workerDied(new WorkerFailedError('the worker is gone'), [filling]);
      // At once: no await between the death and these checks.
      expect(inFlight.filter((b) => !b.destroyed).map((b) => b.label)).toEqual([]);
      expect(probe.buffers.filter((b) => fillingBuffers.includes(b.buffer) && !b.destroyed)).toEqual([]);
      expect(tables.has(filling)).toBe(false);
      expect(() => tables.store.loaded(filling)).toThrow(/WORKER_FAILED/);
      expect(tables.writer.liveBuffers).toBe(kept.length);
      expect(tables.context.tracker.count).toBe(kept.length);

      // The calls still in the port reach the writer after the death: nothing is made or written.
      const made = probe.buffers.length;
      const writes = probe.writes;
      const answers = await Promise.all(state.held.map((h) => h.run()));
      expect(answers.length).toBe(state.held.length);
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
      const late = await tables.writer.create({ id: 1 << 30, label: 'late', size: 1024, usage });
      expect(late?.message).toBe('the worker is gone');
      expect(probe.buffers.length - made, 'buffers made for late creates').toBe(0);
      expect(probe.writes - writes, 'writeBuffer calls for late writes').toBe(0);
      expect(tables.writer.liveBuffers).toBe(kept.length);

      // The table loaded before the death holds the source's bytes, on the device, without a worker.
      const table = tables.loaded(loaded);
      const images = await readColumns(device, tables.context.tracker, table.numRows, table.columns);
      expectSameColumns(images, expectedColumns([...batchesOf(SPEC)], NAMES));
      tables.close();
      expect(tables.context.tracker.count).toBe(0);
    });
  });

  it('stops a write halfway through its slices when the worker goes, and the write still answers', async () => {
    await withDevice(async (device, probe) => {
      let resume: () => void = () => {};
      let yields = 0;
      // Yields after every slice; the first yield resumes only when the test says so.
      const slicer = new TaskSlicer(0, () => {
        yields++;
        return yields === 1 ? new Promise<void>((r) => (resume = r)) : Promise.resolve();
      });
      const writer = new DeviceWriter(device, new BufferTracker(device), { slicer });
      const size = 4 * WRITE_SLICE_BYTES;
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
      expect(await writer.create({ id: 1, label: 'column', size, usage })).toBeNull();
      const before = probe.writes;
      const written = writer.write(
        new ArrayBuffer(size),
        [{ id: 1, dstOffset: 0, srcOffset: 0, byteLength: size }],
        7,
      );
      while (yields === 0) await new Promise((r) => setTimeout(r, 1));
      expect(probe.writes - before, 'slices written before the death').toBe(1);

      writer.abandon('the worker is gone', () => false);
      expect(probe.buffers.at(-1)?.destroyed).toBe(true);
      resume();
      const answer = await written;
      expect(answer.bytes.byteLength).toBe(size);
      expect(probe.writes - before, 'slices written in all').toBe(1);
      expect(await writer.done(7)).toBeNull(); // the session was forgotten; done does not wait on it
      expect(writer.liveBuffers).toBe(0);
    });
  });
});
