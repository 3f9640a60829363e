import { Int32, makeData, RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { GpuContext } from '../../src/core/gpu/device-context.js';
import type { ScopedGpuError } from '../../src/core/gpu/error-scope.js';
import { ChunkPool } from '../../src/core/gpu/remote/chunk-pool.js';
import {
  ChunkStager,
  LARGE_LOAD_BYTES,
  MIN_STAGED_CHUNK_BYTES,
} from '../../src/core/gpu/remote/chunk-stager.js';
import type { DeviceChannel, RemoteDeviceInfo } from '../../src/core/gpu/remote/device-channel.js';
import { DeviceWriter } from '../../src/core/gpu/remote/device-writer.js';
import { RemoteBuffer } from '../../src/core/gpu/remote/remote-buffer.js';
import type { RemoteDevice } from '../../src/core/gpu/remote/remote-device.js';
import { RemoteGpu } from '../../src/core/gpu/remote/remote-gpu.js';
import { RemoteErrorScopes } from '../../src/core/gpu/remote/remote-scopes.js';
import { REMOTE_CHUNK_BYTES, RemoteTransport } from '../../src/core/gpu/remote/remote-transport.js';
import { TaskSlicer } from '../../src/core/gpu/remote/task-slicer.js';
import { MAX_STAGING_BYTES, StagingRing } from '../../src/core/gpu/upload/staging-ring.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import type { TableUpdate } from '../../src/core/pipeline/table-publisher.js';
import { CallerTables } from '../../src/core/service/caller-tables.js';
import { remoteTableSpec } from '../../src/core/service/remote-table.js';
import { encodeDataset, streamed, whole } from '../support/byte-sources.js';
import { withDevice } from '../support/dawn.js';
import { expectedColumns, expectSameColumns, readColumns } from '../support/gpu-columns.js';

// Loads onto a device that lives on "another thread": the worker's side (a RemoteGpu's device and the
// RemoteTransport) reaches the caller's side (DeviceWriter, CallerTables) only through a DeviceChannel.
// Here the channel is a loopback that transfers every chunk as postMessage would (the sender's copy is
// detached), so a transport that touched a posted chunk, or a writer that kept one, fails.

const SPEC: DatasetSpec = {
  rows: 20_011,
  batchRows: 1_733,
  format: 'stream',
  columns: { x: 'f32', y: 'f64', id: 'i32', kind: 'u16', small: 'i8' },
  nulls: { y: 0.25, small: 0.5 },
};
const NAMES = ['x', 'y', 'id', 'kind', 'small'];

/** A channel to `tables`' writer that moves chunks as a transfer would, and counts chunks posted and not back. */
function loopback(tables: CallerTables) {
  const writer = tables.writer;
  /** `ends`: where each posted chunk's bytes end (how full it was). */
  const state = { posted: 0, maxPosted: 0, chunks: new Set<number>(), ends: [] as number[] };
  const move = (bytes: ArrayBuffer) => structuredClone(bytes, { transfer: [bytes] });
  const channel: DeviceChannel = {
    create: (spec) => writer.create(spec),
    write: async (bytes, writes, session) => {
      state.posted++;
      state.maxPosted = Math.max(state.maxPosted, state.posted);
      state.chunks.add(bytes.byteLength);
      state.ends.push(Math.max(0, ...writes.map((w) => w.srcOffset + w.byteLength)));
      const written = await writer.write(move(bytes), writes, session);
      state.posted--;
      return { ...written, bytes: move(written.bytes) };
    },
    destroy: (ids) => writer.destroy(ids),
    done: (session) => writer.done(session),
    settled: (session) => writer.settled(session),
  };
  return { channel, state };
}

function infoOf(device: GPUDevice): RemoteDeviceInfo {
  const { maxBufferSize, maxStorageBufferBindingSize } = device.limits;
  return { maxBufferSize, maxStorageBufferBindingSize, vendor: 'dawn', architecture: '', description: '' };
}

/** The worker's view of the caller's device: a context opened from a RemoteGpu over `channel`. */
function remoteContext(channel: DeviceChannel, device: GPUDevice): Promise<GpuContext> {
  return GpuContext.open(new RemoteGpu(channel, infoOf(device), new Promise(() => {})).asGpu(), () => {});
}

/**
 * Loads the `x` and `id` columns of `bytes` through `worker` onto the caller's device of `tables`, by
 * staging, and checks what its buffers hold against `expected`.
 */
async function loadXid(
  worker: GpuContext,
  tables: CallerTables,
  bytes: Uint8Array,
  expected: ReturnType<typeof expectedColumns>,
): Promise<void> {
  const table = await runPipeline({
    ...{ gpu: worker, source: streamed(bytes, 1 << 20), url: 'test://byod', bytesTotal: bytes.byteLength },
    ...{ columns: ['x', 'id'], upload: 'staging' },
  });
  const loaded = tables.loaded(tables.add(remoteTableSpec(table)).tableId);
  const images = await readColumns(
    tables.context.device,
    tables.context.tracker,
    loaded.numRows,
    loaded.columns,
  );
  expectSameColumns(images, expected);
}

describe('loads onto the caller’s device through a DeviceChannel, on Dawn', () => {
  // The table's chunks are far under MIN_STAGED_CHUNK_BYTES: the default writes them all by writeBuffer.
  for (const [how, minStagedBytes] of [
    ['by writeBuffer', MIN_STAGED_CHUNK_BYTES],
    ['through the staging ring', 256],
  ] as const) {
    it(`gives the caller’s buffers the source’s bytes ${how}, with at most two chunks posted, and queries there equal the CPU`, async () => {
      const bytes = encodeDataset(SPEC);
      const batches = [...batchesOf(SPEC)];
      await withDevice(async (device, probe) => {
        const tables = new CallerTables(device, undefined, { minStagedBytes });
        // A ring with its buffer made, as after a load's second large chunk: every chunk is staged.
        tables.context.ring.prepare();
        await tables.context.ring.prepared();
        const { channel, state } = loopback(tables);
        const worker = await remoteContext(channel, device);
        const writesBefore = probe.writes;
        const table = await runPipeline({
          ...{ gpu: worker, source: streamed(bytes, 4096), url: 'test://byod', bytesTotal: bytes.byteLength },
          ...{ columns: NAMES, upload: 'staging' },
        });
        expect(table.stats.maxUploadsInFlight).toBeLessThanOrEqual(2);
        expect(state.maxPosted).toBeLessThanOrEqual(2);
        const writeBuffers = probe.writes - writesBefore;
        if (how === 'by writeBuffer') expect(writeBuffers).toBeGreaterThan(0);
        else {
          expect(writeBuffers, 'writeBuffer calls while staged').toBe(0);
          expect(probe.maxMapWritePending, 'staging buffers submitted at once').toBeGreaterThan(0);
          expect(probe.maxMapWriteAlive, 'staging buffers alive at once').toBeLessThanOrEqual(2);
        }
        const { tableId } = tables.add(remoteTableSpec(table));
        const loaded = tables.loaded(tableId);
        const images = await readColumns(device, tables.context.tracker, loaded.numRows, loaded.columns);
        expectSameColumns(images, expectedColumns(batches, NAMES));

        const ids = batches.flatMap((b) => {
          const v = b.getChild('id');
          return Array.from({ length: b.numRows }, (_, i) => (v?.isValid(i) ? (v.get(i) as number) : null));
        });
        const valid = ids.filter((v): v is number => v !== null);
        const summary = await tables.store.describe(tableId, 'id');
        expect(summary).toMatchObject({ rows: ids.length, count: valid.length, min: Math.min(...valid) });
        expect(BigInt(summary.sum as number | bigint)).toBe(valid.reduce((s, v) => s + BigInt(v), 0n));
        const kept = await tables.store.filter(tableId, { column: 'id', range: [0, 5000] });
        expect(kept.count).toBe(valid.filter((v) => v >= 0 && v < 5000).length);
        tables.close();
        expect(tables.writer.liveBuffers).toBe(0);
      });
    });
  }

  it('stages the worker’s full chunks in staging buffers of their size, not twice it, and the columns hold every byte', async () => {
    // 2^21 rows of two 32-bit columns: 16 MiB of words, posted in full 8 MiB chunks.
    const spec: DatasetSpec = {
      rows: 1 << 21,
      batchRows: 1 << 16,
      format: 'stream',
      columns: { x: 'f32', id: 'i32' },
    };
    const bytes = encodeDataset(spec);
    await withDevice(async (device, probe) => {
      const tables = new CallerTables(device);
      const { channel, state } = loopback(tables);
      const worker = await remoteContext(channel, device);
      await loadXid(worker, tables, bytes, expectedColumns([...batchesOf(spec)], ['x', 'id']));
      expect(state.chunks, 'chunks posted').toEqual(new Set([REMOTE_CHUNK_BYTES]));
      expect(Math.max(...state.ends), 'a chunk filled past half').toBeGreaterThan(REMOTE_CHUNK_BYTES / 2);
      const staging = probe.buffers.filter((b) => b.usage & GPUBufferUsage.MAP_WRITE);
      expect(staging.length, 'staging buffers made').toBeGreaterThan(0);
      expect(staging.map((b) => b.size)).toEqual(staging.map(() => REMOTE_CHUNK_BYTES));
      expect(probe.maxMapWritePending, 'chunks staged').toBeGreaterThan(0);
      tables.close();
    });
  });

  it('fills a load’s chunks with those of the loads before it, until the loader lets them go', async () => {
    // One batch of more GPU bytes than a chunk holds (2 × 1.2 M words): its first piece fills a chunk, and
    // the next takes another at once (the first still posted), so every load uses two chunks whatever the
    // timing, and the second load finds both of the first's in the pool.
    const spec: DatasetSpec = {
      rows: 1_200_000,
      batchRows: 1_200_000,
      format: 'stream',
      columns: { x: 'f32', id: 'i32' },
    };
    const bytes = encodeDataset(spec);
    const expected = expectedColumns([...batchesOf(spec)], ['x', 'id']);
    await withDevice(async (device) => {
      const tables = new CallerTables(device);
      const { channel } = loopback(tables);
      const worker = await remoteContext(channel, device);
      const remote = worker.device as unknown as RemoteDevice;
      const transports: RemoteTransport[] = [];
      const transport = remote.transport.bind(remote);
      remote.transport = () => {
        transports.push(transport());
        return transports.at(-1) as RemoteTransport;
      };
      const load = async () => {
        await loadXid(worker, tables, bytes, expected);
        return transports.at(-1) as RemoteTransport;
      };
      expect((await load()).chunksMade, 'the first load makes its two chunks').toBe(2);
      expect(remote.chunks.size, 'and leaves them to the next').toBe(2);
      expect((await load()).chunksMade, 'the second load makes none').toBe(0);
      expect(remote.chunks.size).toBe(2);
      worker.trim();
      expect(remote.chunks.size, 'an idle loader keeps none').toBe(0);
      expect((await load()).chunksMade, 'the next load makes them again').toBe(2);
      tables.close();
    });
  });

  it('keeps the chunks a released load gets back, but not those coming back after the loader let go', async () => {
    await withDevice(async (device) => {
      const tables = new CallerTables(device);
      const writer = tables.writer;
      expect(
        await writer.create({ id: 1, label: 'column', size: 4096, usage: GPUBufferUsage.COPY_DST }),
      ).toBeNull();
      // A channel whose writes answer only when let go: chunks stay posted meanwhile.
      const held: (() => void)[] = [];
      const move = (bytes: ArrayBuffer) => structuredClone(bytes, { transfer: [bytes] });
      const channel: DeviceChannel = {
        create: (spec) => writer.create(spec),
        write: (bytes, writes, session) =>
          new Promise((resolve) => {
            held.push(
              () =>
                void writer
                  .write(move(bytes), writes, session)
                  .then((w) => resolve({ ...w, bytes: move(w.bytes) })),
            );
          }),
        destroy: (ids) => writer.destroy(ids),
        done: (session) => writer.done(session),
        settled: (session) => writer.settled(session),
      };
      const pool = new ChunkPool(256, 2);
      const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
      const remoteBuffer = new RemoteBuffer(1, 4096, 'column', GPUBufferUsage.COPY_DST, () => {});
      const fill = (t: RemoteTransport) => async () => {
        await t.begin(256);
        t.writeBytes(remoteBuffer as unknown as GPUBuffer, 0, new Uint8Array(256).fill(7));
        t.flush();
      };
      const released = new RemoteTransport(channel, 1, 256, 2, pool);
      await fill(released)();
      released.release();
      for (const answer of held.splice(0)) answer();
      await settle();
      expect(pool.size, 'a chunk posted when its load was released comes back to the pool').toBe(1);

      const before = new RemoteTransport(channel, 2, 256, 2, pool);
      await fill(before)();
      expect(before.chunksMade, 'taken from the pool').toBe(0);
      before.release();
      pool.clear(); // the loader let go while that chunk was still posted
      for (const answer of held.splice(0)) answer();
      await settle();
      expect(pool.size, 'not kept once let go').toBe(0);
      tables.close();
    });
  });

  for (const fault of ['creating a buffer', 'writing a chunk'] as const) {
    it(`a validation error ${fault} on the caller’s device fails the load with GPU_VALIDATION and leaves no buffer`, async () => {
      const bytes = encodeDataset(SPEC);
      await withDevice(async (device) => {
        let calls = 0;
        const create = device.createBuffer.bind(device);
        const write = device.queue.writeBuffer.bind(device.queue);
        if (fault === 'creating a buffer') {
          // The third buffer asks for usages WebGPU refuses together.
          device.createBuffer = (descriptor) =>
            create(
              ++calls === 3
                ? { ...descriptor, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE }
                : descriptor,
            );
        } else {
          // The fifth write lands past the end of its buffer.
          device.queue.writeBuffer = (buffer, offset, data, dataOffset, size) =>
            write(buffer, ++calls === 5 ? buffer.size : offset, data, dataOffset, size);
        }
        const tables = new CallerTables(device);
        const { channel } = loopback(tables);
        const worker = await remoteContext(channel, device);
        const error = await runPipeline({
          ...{ gpu: worker, source: whole(bytes), url: 'test://byod', bytesTotal: bytes.byteLength },
          ...{ columns: NAMES, upload: 'staging' },
        }).then(
          () => new Error('the load succeeded'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ArrowGpuError);
        expect(error).toMatchObject({ code: 'GPU_VALIDATION' });
        // The refusal itself, naming the column: not a write into the buffer it refused.
        if (fault === 'creating a buffer') {
          expect((error as Error).message).toContain('creating a GPU buffer');
          expect((error as ArrowGpuError).details.column).toBeDefined();
        }
        await channel.done(); // the destroys the failed load sent are applied in order
        expect(tables.writer.liveBuffers).toBe(0);
        expect(tables.context.tracker.count).toBe(0);

        // The error was that load's: the next one on the same device and channel loads every byte.
        device.createBuffer = create;
        device.queue.writeBuffer = write;
        const table = await runPipeline({
          ...{ gpu: worker, source: whole(bytes), url: 'test://byod', bytesTotal: bytes.byteLength },
          ...{ columns: NAMES, upload: 'staging' },
        });
        const loaded = tables.loaded(tables.add(remoteTableSpec(table)).tableId);
        const images = await readColumns(device, tables.context.tracker, loaded.numRows, loaded.columns);
        expectSameColumns(images, expectedColumns([...batchesOf(SPEC)], NAMES));
        tables.close();
      });
    });
  }
});

describe('rows announced while loading onto the caller’s device', () => {
  it('are never rows whose write failed there: a failed last write publishes no update with every row', async () => {
    const bytes = encodeDataset(SPEC);
    await withDevice(async (device) => {
      const tables = new CallerTables(device);
      const { channel } = loopback(tables);
      const worker = await remoteContext(channel, device);
      const write = device.queue.writeBuffer.bind(device.queue);
      const load = (onUpdate: (update: TableUpdate) => void) =>
        runPipeline({
          ...{ gpu: worker, source: streamed(bytes, 4096), url: 'test://byod', bytesTotal: bytes.byteLength },
          ...{ columns: NAMES, upload: 'staging', onUpdate },
        });

      // A clean load: how many writes a load makes, and that its last update holds every row.
      let writes = 0;
      device.queue.writeBuffer = (buffer, offset, data, dataOffset, size) => {
        writes++;
        write(buffer, offset, data, dataOffset, size);
      };
      const clean: number[] = [];
      const table = await load((update) => clean.push(update.numRows));
      expect(clean.at(-1)).toBe(SPEC.rows);
      tables.add(remoteTableSpec(table));

      // The same load with its last write (the last batch's) landing past the end of its buffer.
      let calls = 0;
      device.queue.writeBuffer = (buffer, offset, data, dataOffset, size) =>
        write(buffer, ++calls >= writes ? buffer.size : offset, data, dataOffset, size);
      const announced: number[] = [];
      const error = await load((update) => announced.push(update.numRows)).then(
        () => new Error('the load succeeded'),
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'GPU_VALIDATION' });
      expect(calls).toBe(writes);
      expect(announced.length).toBeGreaterThan(0);
      expect(Math.max(...announced)).toBeLessThan(SPEC.rows);
      device.queue.writeBuffer = write;
      tables.close();
      expect(tables.writer.liveBuffers).toBe(0);
    });
  });

  it('are never rows whose first validity words failed to be written there', async () => {
    // Nulls first come in the third batch: the column's validity starts there, its earlier rows
    // written as valid outside the load's chunks.
    const batch = (first: number, nulls: boolean) =>
      new RecordBatch({
        a: makeData({
          type: new Int32(),
          length: 1000,
          data: Int32Array.from({ length: 1000 }, (_, i) => first + i),
          nullBitmap: nulls ? Uint8Array.from({ length: 125 }, () => 0x55) : undefined,
          nullCount: nulls ? 500 : 0,
        }),
      });
    const bytes = tableToIPC(new Table([batch(0, false), batch(1000, false), batch(2000, true)]), 'stream');
    await withDevice(async (device) => {
      const tables = new CallerTables(device);
      const { channel } = loopback(tables);
      const worker = await remoteContext(channel, device);
      const write = device.queue.writeBuffer.bind(device.queue);
      let validityWrites = 0;
      // The first write into a validity buffer lands past its end.
      device.queue.writeBuffer = (buffer, offset, data, dataOffset, size) => {
        const first = buffer.label.startsWith('validity of') && validityWrites++ === 0;
        write(buffer, first ? buffer.size : offset, data, dataOffset, size);
      };
      const announced: number[] = [];
      const error = await runPipeline({
        ...{ gpu: worker, source: whole(bytes), url: 'test://byod', bytesTotal: bytes.byteLength },
        ...{ upload: 'staging', onUpdate: (update: TableUpdate) => announced.push(update.numRows) },
      }).then(
        () => new Error('the load succeeded'),
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'GPU_VALIDATION' });
      expect(validityWrites).toBeGreaterThan(0);
      expect(Math.max(0, ...announced)).toBeLessThanOrEqual(2000);
      device.queue.writeBuffer = write;
      await channel.done();
      expect(tables.writer.liveBuffers).toBe(0);
      tables.close();
    });
  });
});

describe('RemoteTransport', () => {
  it('makes at most two chunks, and never writes into a chunk it posted', async () => {
    const made = new Set<ArrayBuffer>();
    let pending: Array<() => void> = [];
    const channel: DeviceChannel = {
      create: async () => null,
      // Hands each chunk back only when the test says so: the transport must wait.
      write: (bytes) =>
        new Promise((resolve) => {
          made.add(bytes);
          const copy = structuredClone(bytes, { transfer: [bytes] });
          pending.push(() => resolve({ bytes: copy, error: null }));
        }),
      destroy: async () => {},
      done: async () => null,
      settled: async () => null,
    };
    const transport = new RemoteTransport(channel, 1, 1024);
    const target = new RemoteBuffer(1, 1 << 20, 'column', 0, () => {}) as unknown as GPUBuffer;
    let begun = 0;
    const filling = (async () => {
      for (let i = 0; i < 5; i++) {
        await transport.begin(1024);
        begun++;
        transport.writeBytes(target, i * 1024, new Uint8Array(1024).fill(i));
        transport.flush();
      }
    })();
    await new Promise((r) => setTimeout(r, 10));
    expect([begun, transport.inFlight]).toEqual([2, 2]);
    const release = () => {
      const next = pending;
      pending = [];
      for (const resolve of next) resolve();
    };
    while (begun < 5) {
      release();
      await new Promise((r) => setTimeout(r, 5));
    }
    release();
    await filling;
    release();
    await transport.finish();
    expect(transport.maxInFlight).toBe(2);
    expect(made.size).toBe(5); // each post was a transfer: a fresh buffer identity, none reused after posting
  });

  it('fails the load’s next step with the typed error the caller’s device reported', async () => {
    const failure: ScopedGpuError = { kind: 'out-of-memory', message: 'no room' };
    const channel: DeviceChannel = {
      create: async () => null,
      write: async (bytes) => ({ bytes, error: failure }),
      destroy: async () => {},
      done: async () => failure,
      settled: async () => failure,
    };
    const target = new RemoteBuffer(1, 64, 'column', 0, () => {}) as unknown as GPUBuffer;
    const transport = new RemoteTransport(channel, 1, 64);
    await transport.begin(16);
    transport.writeBytes(target, 0, new Uint8Array(16));
    transport.flush();
    await expect(transport.finish()).rejects.toMatchObject({ code: 'GPU_OUT_OF_MEMORY' });
  });
});

describe('DeviceWriter', () => {
  it('has the caller’s device release destroyed buffers once for the destroys of a task, not once each', async () => {
    await withDevice(async (device, probe) => {
      const writer = new DeviceWriter(device, new BufferTracker(device), { slicer: new TaskSlicer(50) });
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
      for (let id = 1; id <= 4; id++)
        expect(await writer.create({ id, label: `chunk ${id}`, size: 256, usage })).toBeNull();
      const before = probe.submits;
      // A table's chunks are destroyed one call each (RemoteDevice posts each buffer's destroy on its own).
      await Promise.all([1, 2, 3, 4].map((id) => writer.destroy([id])));
      expect(probe.buffers.filter((b) => b.destroyed).length).toBe(4);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(probe.submits - before, 'submissions after four destroys in one task').toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(probe.submits - before, 'none more without another destroy').toBe(1);
      await device.queue.onSubmittedWorkDone();
    });
  });
});

describe('DeviceWriter writes', () => {
  /** 300 writes of 4 bytes each into one buffer, of words 0…299, from one chunk; the scopes pushed. */
  async function writeChunk(device: GPUDevice, slicer: TaskSlicer, destroyFirst = false) {
    const writer = new DeviceWriter(device, new BufferTracker(device), { slicer });
    const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    expect(await writer.create({ id: 1, label: 'column', size: 1200, usage })).toBeNull();
    if (destroyFirst) await writer.destroy([1]);
    const bytes = new Uint32Array(300).map((_, i) => i * 7 + 1).buffer;
    const writes = Array.from({ length: 300 }, (_, i) => ({
      id: 1,
      dstOffset: i * 4,
      srcOffset: i * 4,
      byteLength: 4,
    }));
    let pushed = 0;
    const push = device.pushErrorScope.bind(device);
    device.pushErrorScope = (filter) => {
      pushed++;
      push(filter);
    };
    try {
      const written = await writer.write(bytes, writes);
      return { writer, written, pushed };
    } finally {
      device.pushErrorScope = push;
    }
  }

  it('writes every part of a chunk, under one error scope pair a task rather than one a write', async () => {
    await withDevice(async (device) => {
      const { writer, written, pushed } = await writeChunk(device, new TaskSlicer(1000));
      expect(written.error).toBeNull();
      expect(pushed, 'scopes pushed for 300 writes in one task (out-of-memory and validation)').toBe(2);
      const buffer = writer.buffer(1) as GPUBuffer;
      const words = new Uint32Array(await readBack(device, buffer, 1200));
      expect(Array.from(words)).toEqual(Array.from({ length: 300 }, (_, i) => i * 7 + 1));
      writer.destroyAll();
    });
  });

  it('yields between tasks (a scope pair each), and still writes every part', async () => {
    await withDevice(async (device) => {
      const { writer, written, pushed } = await writeChunk(device, new TaskSlicer(0));
      expect(written.error).toBeNull();
      expect(pushed).toBe(600); // a task per write when every task is due at once
      const words = new Uint32Array(await readBack(device, writer.buffer(1) as GPUBuffer, 1200));
      expect(words[299]).toBe(299 * 7 + 1);
      writer.destroyAll();
    });
  });

  it('reports a write into a buffer destroyed before it as a validation failure, and writes nothing', async () => {
    await withDevice(async (device) => {
      const { written } = await writeChunk(device, new TaskSlicer(1000), true);
      expect(written.error?.message).toMatch(/buffer 1 was destroyed before it was written/);
    });
  });
});

/** The first `size` bytes of `buffer`, copied out through a mappable buffer. */
async function readBack(device: GPUDevice, buffer: GPUBuffer, size: number): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.destroy();
  return copy;
}

describe('RemoteErrorScopes', () => {
  it('gives each error to the innermost open scope of its kind, and the rest to the uncaptured listener', async () => {
    const scopes = new RemoteErrorScopes();
    const uncaptured: string[] = [];
    scopes.onUncaptured = (message) => uncaptured.push(message);
    const error = (kind: ScopedGpuError['kind'], message: string) => Promise.resolve({ kind, message });
    scopes.push('out-of-memory');
    scopes.push('validation');
    scopes.record(error('out-of-memory', 'oom 1'));
    scopes.record(Promise.resolve(null));
    scopes.record(error('validation', 'invalid 1'));
    const validation = scopes.pop();
    scopes.record(error('validation', 'invalid 2'));
    const oom = scopes.pop();
    scopes.record(error('validation', 'outside'));
    expect((await validation)?.message).toBe('invalid 1');
    expect((await oom)?.message).toBe('oom 1');
    await new Promise((r) => setTimeout(r, 0));
    // 'invalid 2' came while only the out-of-memory scope was open: no scope of its kind caught it.
    expect(uncaptured).toEqual(['invalid 2', 'outside']);
    await expect(scopes.pop()).rejects.toThrow(/No error scope/);
  });
});

describe('DeviceWriter’s bound on bytes not yet done on the GPU', () => {
  /** A device whose submitted work is done only when the test says so; the writes it took, in order. */
  function fakeDevice() {
    const pending: Array<() => void> = [];
    const written: number[] = [];
    const device = {
      pushErrorScope: () => {},
      popErrorScope: async () => null,
      createBuffer: ({ size }: GPUBufferDescriptor) => ({ size, destroy: () => {} }),
      queue: {
        writeBuffer: (_buffer: GPUBuffer, _offset: number, _data: ArrayBuffer, _from: number, size: number) =>
          written.push(size),
        onSubmittedWorkDone: () =>
          new Promise<undefined>((resolve) => pending.push(() => resolve(undefined))),
        submit: () => {},
      },
    } as unknown as GPUDevice;
    const tracker = {
      adopt: () => {},
      destroy: () => {},
      releaseDestroyed: () => {},
    } as unknown as BufferTracker;
    return { device, tracker, pending, written };
  }
  /** A writer on the fake device that holds at most 1000 bytes not yet done, with a buffer of id 1. */
  async function boundedWriter() {
    const { device, tracker, pending, written } = fakeDevice();
    const options = { slicer: new TaskSlicer(1000), maxSubmittedBytes: 1000 };
    const writer = new DeviceWriter(device, tracker, options);
    expect(await writer.create({ id: 1, label: 'c', size: 4096, usage: 0 })).toBeNull();
    return { writer, pending, written };
  }
  const chunk = (bytes: number) => [{ id: 1, dstOffset: 0, srcOffset: 0, byteLength: bytes }];
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('writes small chunks without waiting for the GPU, and holds one that would pass the bound', async () => {
    const { writer, pending, written } = await boundedWriter();
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) done.push(writer.write(new ArrayBuffer(200), chunk(200)));
    await Promise.all(done);
    expect(written, 'five chunks of 200 bytes, 1000 in all: none waits').toEqual([200, 200, 200, 200, 200]);
    const held = writer.write(new ArrayBuffer(300), chunk(300));
    await settle();
    expect(written.length, 'a sixth would pass 1000 bytes not done').toBe(5);
    pending.shift()?.(); // the first chunk's 200 bytes are done: 800 + 300 still pass the bound
    await settle();
    expect(written.length).toBe(5);
    pending.shift()?.(); // 600 + 300 fit
    await held;
    expect(written).toEqual([200, 200, 200, 200, 200, 300]);
    for (const resolve of pending) resolve();
  });

  it('forgets each chunk once it is done, so that nothing is counted for chunks long done', async () => {
    const { writer, pending } = await boundedWriter();
    for (let i = 0; i < 50; i++) await writer.write(new ArrayBuffer(16), chunk(16));
    expect(writer.submittedBytes).toBe(800);
    for (const resolve of pending.splice(0)) resolve();
    await settle();
    expect(writer.submittedBytes).toBe(0);
    const written = await writer.write(new ArrayBuffer(900), chunk(900));
    expect(written.error, 'written at once: nothing is in flight').toBeNull();
    for (const resolve of pending.splice(0)) resolve();
  });

  it('writes a chunk larger than the bound once nothing else is in flight', async () => {
    const { writer, pending, written } = await boundedWriter();
    await writer.write(new ArrayBuffer(600), chunk(600));
    const large = writer.write(new ArrayBuffer(3000), chunk(3000));
    await settle();
    expect(written).toEqual([600]);
    pending.shift()?.();
    await large;
    expect(written).toEqual([600, 3000]);
    for (const resolve of pending) resolve();
  });
});

describe('DeviceWriter through the caller’s staging ring', () => {
  const fill4096 = () => new Uint32Array(1024).fill(5).buffer;
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

  /**
   * A writer whose chunks of 64 bytes or more are staged, with a column buffer of `size` bytes as id 1;
   * its ring has made its first buffer unless `cold`.
   */
  async function stagedWriter(device: GPUDevice, size: number, cold = false) {
    const tracker = new BufferTracker(device);
    const ring = new StagingRing(device, tracker);
    if (!cold) {
      ring.prepare();
      await ring.prepared();
    }
    const options = { ring, minStagedBytes: 64, slicer: new TaskSlicer(1000), stagingIdleMs: 20 };
    const writer = new DeviceWriter(device, tracker, options);
    expect(await writer.create({ id: 1, label: 'column', size, usage })).toBeNull();
    return { tracker, ring, writer };
  }

  /** The first `bytes` of column 1, as words. */
  async function columnWords(device: GPUDevice, writer: DeviceWriter, bytes: number) {
    return new Uint32Array(await readBack(device, writer.buffer(1) as GPUBuffer, bytes));
  }

  /** Releases the staging buffers and destroys every buffer the writer made. */
  async function release(writer: DeviceWriter) {
    await writer.trimStaging();
    writer.destroyAll();
  }

  /** Chunk `c` of `source` (1024 words), as two parts written into the column in reverse order. */
  function chunkOf(source: Uint32Array, c: number) {
    const bytes = source.slice(c * 1024, (c + 1) * 1024).buffer;
    const writes = [
      { id: 1, dstOffset: c * 4096 + 2048, srcOffset: 2048, byteLength: 2048 },
      { id: 1, dstOffset: c * 4096, srcOffset: 0, byteLength: 2048 },
    ];
    return { bytes, writes };
  }

  it('copies a load’s chunks through at most two staging buffers, with no writeBuffer, and the column holds every byte', async () => {
    await withDevice(async (device, probe) => {
      const { ring, writer, tracker } = await stagedWriter(device, 40 * 4096);
      const source = new Uint32Array(40 * 1024).map((_, i) => Math.imul(i + 1, 2654435761) >>> 0);
      const writesBefore = probe.writes;
      // Posted all at once, as a worker's transport posts them: the writer takes them in order.
      const written = await Promise.all(
        Array.from({ length: 40 }, (_, c) => {
          const { bytes, writes } = chunkOf(source, c);
          return writer.write(bytes, writes, 7);
        }),
      );
      for (const w of written) expect([w.error, w.bytes.byteLength]).toEqual([null, 4096]);
      expect(await writer.done(7)).toBeNull();
      expect(probe.writes - writesBefore, 'writeBuffer calls').toBe(0);
      expect(ring.maxInFlight).toBeGreaterThan(0);
      expect(ring.maxInFlight).toBeLessThanOrEqual(2);
      expect(tracker.count, 'the column and the ring’s buffers').toBeLessThanOrEqual(3);
      const words = await columnWords(device, writer, 40 * 4096);
      expect(words).toEqual(source);
      await writer.trimStaging();
      expect(tracker.count, 'the column alone once trimmed').toBe(1);
      writer.destroyAll();
    });
  });

  it('stages only chunks large enough, word-aligned and within one staging buffer, once its ring has a buffer', async () => {
    await withDevice(async (device) => {
      const ring = new StagingRing(device, new BufferTracker(device));
      const stager = new ChunkStager(ring, device, new TaskSlicer(), 64);
      const part = (srcOffset: number, byteLength: number) => ({
        id: 1,
        dstOffset: 0,
        srcOffset,
        byteLength,
      });
      expect(stager.fits([part(0, 60)])).toBe(false);
      expect(stager.fits([part(0, 32), part(32, 32)])).toBe(true);
      expect(stager.fits([part(0, 64), part(66, 4)])).toBe(false);
      expect(stager.fits([part(0, MAX_STAGING_BYTES)])).toBe(true);
      expect(stager.fits([part(0, MAX_STAGING_BYTES + 4)])).toBe(false);
      expect(stager.ready(false), 'a cold ring, left cold by a load’s first chunk').toBe(false);
      await ring.prepared();
      expect(ring.warm).toBe(false);
      expect(stager.ready(true), 'a load’s second chunk: the ring starts making a buffer').toBe(false);
      await ring.prepared();
      expect(stager.ready(false)).toBe(true);
      ring.destroy();
    });
  });

  it('has a cold ring make its buffer as soon as loads made buffers for two full chunks, so their first chunk is staged', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      // No idle trim while the test runs, however slow the machine: the buffer made ahead must be there.
      const options = { ring, minStagedBytes: 64, slicer: new TaskSlicer(1000), stagingIdleMs: 60_000 };
      const writer = new DeviceWriter(device, tracker, options);
      const half = LARGE_LOAD_BYTES / 2;
      expect(await writer.create({ id: 1, label: 'a', size: half, usage })).toBeNull();
      await ring.prepared();
      expect(ring.warm, 'buffers for one chunk: a small load, left to writeBuffer').toBe(false);
      expect(await writer.create({ id: 2, label: 'b', size: half, usage })).toBeNull();
      await ring.prepared();
      expect(ring.warm, 'buffers for two chunks: the ring makes its buffer before any write').toBe(true);
      const source = new Uint32Array(1024).map((_, i) => 5 * i + 1);
      const { bytes, writes } = chunkOf(source, 0);
      const writesBefore = probe.writes;
      const first = await writer.write(bytes, writes, 4);
      expect(first.error).toBeNull();
      expect(await writer.done(4)).toBeNull();
      expect(probe.writes - writesBefore, 'the first chunk staged: no writeBuffer').toBe(0);
      expect(await columnWords(device, writer, 4096)).toEqual(source);
      // Counted from the last load's end: the next small load leaves the trimmed ring cold again.
      await writer.trimStaging();
      expect(await writer.create({ id: 3, label: 'c', size: half, usage })).toBeNull();
      await ring.prepared();
      expect(ring.warm, 'a new count once no load writes').toBe(false);
      await release(writer);
    });
  });

  for (const end of ['its load ends before writing', 'no load writes for a while'] as const) {
    it(`lets a staging buffer made ahead go when ${end}`, async () => {
      await withDevice(async (device) => {
        const tracker = new BufferTracker(device);
        const ring = new StagingRing(device, tracker);
        const options = { ring, minStagedBytes: 64, slicer: new TaskSlicer(1000), stagingIdleMs: 20 };
        const writer = new DeviceWriter(device, tracker, options);
        expect(await writer.create({ id: 1, label: 'a', size: LARGE_LOAD_BYTES, usage })).toBeNull();
        await ring.prepared();
        expect(ring.warm, 'made ahead').toBe(true);
        if (end === 'its load ends before writing') expect(await writer.done(5)).toBeNull();
        else await new Promise((resolve) => setTimeout(resolve, 100)); // the idle trim, after 20 ms
        expect(ring.warm, 'no staging buffer left').toBe(false);
        expect(tracker.count, 'only the column buffer').toBe(1);
        writer.destroyAll();
      });
    });
  }

  it('writes a small chunk with writeBuffer, in order with the staged ones around it (the last write of a word wins)', async () => {
    await withDevice(async (device, probe) => {
      const { writer } = await stagedWriter(device, 4096);
      const fill = (value: number) => new Uint32Array(1024).fill(value).buffer;
      const writesBefore = probe.writes;
      // Staged: every word 1; then by writeBuffer: words 100–107 are 2; then staged: words 104–1023 are 3.
      await Promise.all([
        writer.write(fill(1), [{ id: 1, dstOffset: 0, srcOffset: 0, byteLength: 4096 }], 3),
        writer.write(fill(2), [{ id: 1, dstOffset: 400, srcOffset: 0, byteLength: 32 }], 3),
        writer.write(fill(3), [{ id: 1, dstOffset: 416, srcOffset: 0, byteLength: 4096 - 416 }], 3),
      ]);
      expect(await writer.done(3)).toBeNull();
      expect(probe.writes - writesBefore, 'the small chunk’s one writeBuffer').toBe(1);
      const expected = new Uint32Array(1024).fill(1).fill(2, 100, 104).fill(3, 104);
      expect(await columnWords(device, writer, 4096)).toEqual(expected);
      await release(writer);
    });
  });

  it('writes a chunk with writeBuffer when its ring gives no buffer (making one failed)', async () => {
    await withDevice(async (device, probe) => {
      const { ring, writer } = await stagedWriter(device, 4096);
      ring.acquire = () => Promise.reject(new Error('out of memory'));
      const source = new Uint32Array(1024).map((_, i) => 7 * i + 3);
      const { bytes, writes } = chunkOf(source, 0);
      const writesBefore = probe.writes;
      expect((await writer.write(bytes, writes)).error).toBeNull();
      expect(probe.writes - writesBefore, 'both parts by writeBuffer').toBe(2);
      expect(await columnWords(device, writer, 4096)).toEqual(source);
      await release(writer);
    });
  });

  it('keeps no staging buffer that was being made when its ring was destroyed', async () => {
    await withDevice(async (device) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      ring.prepare();
      ring.destroy(new Error('the worker is gone'));
      await ring.prepared();
      expect(ring.warm).toBe(false);
      expect(tracker.count, 'buffers tracked').toBe(0);
    });
  });

  it('submits nothing once closed: a load that ends after it sets no trim', async () => {
    await withDevice(async (device, probe) => {
      const { ring, writer } = await stagedWriter(device, 4096);
      await writer.write(fill4096(), [{ id: 1, dstOffset: 0, srcOffset: 0, byteLength: 4096 }], 9);
      writer.destroyAll();
      const submits = probe.submits;
      await writer.done(9);
      await new Promise((resolve) => setTimeout(resolve, 60)); // past the writer's idle time (20 ms)
      expect(probe.submits - submits).toBe(0);
      await ring.remapped();
      ring.destroy(); // the ring is its device context's, which a closing loader destroys
    });
  });

  it('fails a part whose buffer was destroyed before it, and one past its buffer’s end, and writes the others', async () => {
    await withDevice(async (device) => {
      const { writer } = await stagedWriter(device, 4096);
      expect(await writer.create({ id: 2, label: 'gone', size: 4096, usage })).toBeNull();
      await writer.destroy([2]);
      const source = new Uint32Array(1024).map((_, i) => i + 11);
      const gone = [{ id: 2, dstOffset: 0, srcOffset: 0, byteLength: 4096 }, ...chunkOf(source, 0).writes];
      const first = await writer.write(source.slice().buffer, gone);
      expect(first.error?.message).toMatch(/buffer 2 was destroyed before it was written/);
      const past = [{ id: 1, dstOffset: 2048, srcOffset: 0, byteLength: 4096 }];
      const second = await writer.write(source.slice().buffer, past);
      expect(second.error?.kind).toBe('validation');
      expect(await columnWords(device, writer, 4096)).toEqual(source);
      await release(writer);
    });
  });

  it('writes with writeBuffer when the ring has no buffer to give (it failed with its device)', async () => {
    await withDevice(async (device, probe) => {
      const { ring, writer } = await stagedWriter(device, 4096);
      ring.destroy(new Error('the device was lost'));
      const source = new Uint32Array(1024).map((_, i) => 3 * i + 1);
      const { bytes, writes } = chunkOf(source, 0);
      const writesBefore = probe.writes;
      expect((await writer.write(bytes, writes)).error).toBeNull();
      expect(probe.writes - writesBefore).toBe(2);
      expect(await columnWords(device, writer, 4096)).toEqual(source);
      writer.destroyAll();
    });
  });

  it('writes a load’s chunks by writeBuffer while its ring has no buffer, has it make one at the second, and stages those after', async () => {
    await withDevice(async (device, probe) => {
      const { ring, writer } = await stagedWriter(device, 3 * 4096, true);
      const source = new Uint32Array(3072).map((_, i) => i * 5 + 2);
      const writesBefore = probe.writes;
      const write = async (c: number) => {
        const { bytes, writes } = chunkOf(source, c);
        expect((await writer.write(bytes, writes, 4)).error).toBeNull();
      };
      await write(0);
      await ring.prepared();
      expect(ring.warm, 'a load’s first chunk makes no staging buffer').toBe(false);
      await write(1);
      expect(probe.writes - writesBefore, 'two chunks of two parts, by writeBuffer').toBe(4);
      await ring.prepared();
      expect(ring.warm, 'its second had the ring make one').toBe(true);
      await write(2);
      expect(probe.writes - writesBefore, 'the third chunk staged').toBe(4);
      expect(await writer.done(4)).toBeNull();
      expect(await columnWords(device, writer, 3 * 4096)).toEqual(source);
      await release(writer);
    });
  });

  it('releases its staging buffers once no load has written for a while, makes them again for the next, and drops one its load never used', async () => {
    await withDevice(async (device) => {
      const { ring, writer, tracker } = await stagedWriter(device, 3 * 4096);
      const source = new Uint32Array(3072).map((_, i) => i);
      const { bytes, writes } = chunkOf(source, 0);
      await writer.write(bytes, writes, 1);
      expect(await writer.done(1)).toBeNull();
      expect(tracker.count).toBeGreaterThan(1);
      for (let waited = 0; tracker.count > 1 && waited < 2000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(tracker.count, 'the column alone, once idle').toBe(1);
      expect(ring.warm).toBe(false);
      for (const c of [1, 2]) {
        const next = chunkOf(source, c);
        await writer.write(next.bytes, next.writes, 2);
      }
      await ring.prepared();
      expect(ring.warm, 'a buffer made again for the load that came').toBe(true);
      expect(await writer.done(2)).toBeNull();
      expect(ring.warm, 'that load ended before using it: it went with the load').toBe(false);
      expect(tracker.count).toBe(1);
      expect(await columnWords(device, writer, 3 * 4096)).toEqual(source);
      await release(writer);
    });
  });
});
