import { describe, expect, it } from 'vitest';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { GpuErrorWatch } from '../../src/core/gpu/error-scope.js';
import { LoneBatchTransport } from '../../src/core/gpu/upload/lone-batch-transport.js';
import { StagingRing } from '../../src/core/gpu/upload/staging-ring.js';
import { StagingTransport } from '../../src/core/gpu/upload/staging-transport.js';
import type { UploadTransport } from '../../src/core/gpu/upload/transport.js';
import { WriteBufferTransport } from '../../src/core/gpu/upload/write-buffer-transport.js';
import { type DeviceProbe, readBytes, withDevice } from '../support/dawn.js';

// The in-flight bound of both upload strategies, measured on Dawn at the WebGPU API (staging buffers
// alive and unmapped, writeBuffer submissions not done) rather than read from the transports' counters.

/** The bound the README promises for both strategies; spelled out, so that raising MAX_IN_FLIGHT fails here. */
const BOUND = 2;

const CHUNK = 64 << 10;
const CHUNKS = 48;

/** Word `k` of chunk `i`: distinct in every chunk, so that a lost or misplaced chunk shows. */
function word(i: number, k: number): number {
  return (Math.imul(i + 1, 0x9e3779b1) + k) >>> 0;
}

function chunkWords(i: number): Uint32Array {
  return Uint32Array.from({ length: CHUNK / 4 }, (_, k) => word(i, k));
}

/**
 * Writes `CHUNKS` chunks into one buffer, each its own submission, half converted through `write` and
 * half as bytes; `afterBegin` runs each time room was granted. Expects the GPU to hold every chunk.
 */
async function upload(
  device: GPUDevice,
  tracker: BufferTracker,
  transport: UploadTransport,
  afterBegin: () => void,
): Promise<void> {
  const dst = await tracker.create({
    label: 'destination',
    size: CHUNKS * CHUNK,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  for (let i = 0; i < CHUNKS; i++) {
    await transport.begin(CHUNK);
    afterBegin();
    const words = chunkWords(i);
    if (i % 2 === 0) {
      transport.write(dst, i * CHUNK, CHUNK, (target, offset) => {
        new Uint32Array(target, offset, CHUNK / 4).set(words);
      });
    } else {
      transport.writeBytes(dst, i * CHUNK, new Uint8Array(words.buffer));
    }
    transport.flush();
  }
  await transport.finish();
  const bytes = await readBytes(device, tracker, dst, CHUNKS * CHUNK);
  tracker.destroy(dst);
  const got = new Uint32Array(bytes.buffer);
  const wrong = got.findIndex((w, at) => w !== word(Math.floor(at / (CHUNK / 4)), at % (CHUNK / 4)));
  expect(wrong, 'first wrong word on the GPU').toBe(-1);
}

function stagingBuffersMade(probe: DeviceProbe): number {
  return probe.buffers.filter((b) => (b.usage & GPUBufferUsage.MAP_WRITE) !== 0).length;
}

describe('staging ring on Dawn', () => {
  it(`keeps at most ${BOUND} staging buffers held or submitted at once, and reaches ${BOUND}`, async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      const watch = new GpuErrorWatch(device);
      const transport = new StagingTransport(device, ring, watch);
      // Right after `begin` this test holds one mapped slot; the unmapped ones wait for the GPU.
      let heldOrSubmitted = 0;
      await upload(device, tracker, transport, () => {
        heldOrSubmitted = Math.max(heldOrSubmitted, 1 + probe.mapWritePending);
      });
      await watch.settle();
      expect(heldOrSubmitted).toBe(BOUND);
      expect(probe.maxMapWritePending).toBe(BOUND);
      expect(probe.maxMapWriteAlive).toBe(BOUND);
      // Warm slots are reused: no staging buffer per batch.
      expect(stagingBuffersMade(probe)).toBe(BOUND);
      expect(probe.mapWritePending).toBe(0);
      ring.destroy();
      expect(tracker.count).toBe(0);
    });
  });

  it('a slot that other threads write into is destroyed, by the ring or by destroyAll, only once they are done', async () => {
    await withDevice(async (device) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      const slot = await ring.acquire(1 << 20);
      let finishWrites: () => void = () => {};
      const writes = new Promise<void>((resolve) => {
        finishWrites = resolve;
      });
      ring.writtenUntil(slot, writes);
      ring.destroy();
      tracker.destroyAll();
      expect(tracker.count, 'still made while written into').toBe(1);
      // Still mapped: a write into the range, as a read from a file would make, lands in live memory.
      new Uint8Array(slot.mapped).fill(7);
      expect(tracker.writing()).not.toBeNull();
      finishWrites();
      await tracker.writing();
      expect(tracker.count).toBe(0);
      expect(tracker.writing()).toBeNull();
    });
  });

  it('is measured, not assumed: a ring of three slots shows three at once', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker, 3);
      const transport = new StagingTransport(device, ring, new GpuErrorWatch(device));
      await upload(device, tracker, transport, () => {});
      expect(probe.maxMapWritePending).toBe(3);
      expect(probe.maxMapWriteAlive).toBe(3);
      ring.destroy();
    });
  });

  it('trim() destroys free slots only, and a later acquire makes them again', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      const a = await ring.acquire(1024);
      const b = await ring.acquire(1024);
      ring.release(a);
      ring.trim();
      expect([probe.mapWriteAlive, tracker.count, ring.inFlight]).toEqual([1, 1, 1]);
      expect(b.buffer.mapState).toBe('mapped'); // the held slot was left alone
      ring.release(b);
      ring.trim();
      expect([probe.mapWriteAlive, tracker.count]).toEqual([0, 0]);

      const c = await ring.acquire(1024);
      expect(stagingBuffersMade(probe)).toBe(3);
      expect(c.mapped.byteLength).toBeGreaterThanOrEqual(1024);
      const dst = await tracker.create({
        label: 'destination',
        size: 16,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
      new Uint32Array(c.mapped, 0, 4).set([7, 8, 9, 10]);
      const submitted = ring.submit(c, [{ dst, dstOffset: 0, srcOffset: 0, size: 16 }]);
      ring.trim(); // the slot waits for the GPU: kept
      expect(probe.mapWriteAlive).toBe(1);
      await submitted;
      expect([...new Uint32Array((await readBytes(device, tracker, dst, 16)).buffer)]).toEqual([7, 8, 9, 10]);
      tracker.destroy(dst);
      ring.trim();
      expect([probe.mapWriteAlive, tracker.count, ring.inFlight]).toEqual([0, 0, 0]);
    });
  });
});

describe('staging ring made ahead (prepare) on Dawn', () => {
  it('prepare() makes one slot in the background; the first acquire takes that one, and trim waits for it', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      ring.prepare();
      ring.prepare(); // once is enough
      const slot = await ring.acquire(1024);
      expect(stagingBuffersMade(probe)).toBe(1);
      expect(slot.mapped.byteLength).toBeGreaterThanOrEqual(1024);
      ring.release(slot);
      ring.prepare(); // a slot exists: nothing more is made
      await ring.prepared();
      expect(stagingBuffersMade(probe)).toBe(1);

      ring.trim();
      ring.prepare();
      await ring.prepared();
      expect([probe.mapWriteAlive, ring.inFlight, ring.maxInFlight]).toEqual([1, 0, 1]); // made, free again
      ring.trim();
      expect([probe.mapWriteAlive, tracker.count]).toEqual([0, 0]);
    });
  });

  it('discardPrepared() destroys a prepared slot that no acquire took, and keeps one that was used', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      ring.prepare();
      await ring.discardPrepared();
      expect([probe.mapWriteAlive, tracker.count, ring.maxInFlight]).toEqual([0, 0, 0]);
      ring.prepare();
      ring.release(await ring.acquire(1024));
      await ring.discardPrepared();
      expect(probe.mapWriteAlive).toBe(1);
      ring.destroy();
    });
  });
});

describe('writeBuffer transport on Dawn', () => {
  it(`keeps at most ${BOUND} submissions in flight, and reaches ${BOUND}`, async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const transport = new WriteBufferTransport(device);
      // Right after `begin` the next writes may go out: the submissions not done must leave room for them.
      let notDoneAtBegin = 0;
      await upload(device, tracker, transport, () => {
        notDoneAtBegin = Math.max(notDoneAtBegin, probe.writeSubmissionsInFlight);
      });
      expect(probe.writeSubmissions).toBe(CHUNKS);
      expect(notDoneAtBegin).toBe(BOUND - 1);
      expect(probe.maxWriteSubmissionsInFlight).toBe(BOUND);
      expect(probe.maxWriteGroupsOutstanding).toBe(BOUND);
      expect(probe.writeSubmissionsInFlight).toBe(0);
    });
  });

  it('is measured, not assumed: a bound of three shows three at once', async () => {
    await withDevice(async (device, probe) => {
      const transport = new WriteBufferTransport(device, 3);
      await upload(device, new BufferTracker(device), transport, () => {});
      expect(probe.maxWriteSubmissionsInFlight).toBe(3);
    });
  });
});

describe('lone-batch transport on Dawn', () => {
  const WORDS = 4096;
  /** Writes of overlapping word ranges, each alone or not, flushed only now and then (deterministic LCG). */
  function plan(count: number, seed: number) {
    let x = seed;
    const next = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    return Array.from({ length: count }, (_, i) => {
      const start = next(WORDS - 64);
      return {
        i,
        start,
        words: 1 + next(Math.min(1024, WORDS - start)),
        alone: next(2) === 0,
        flush: next(3) === 0,
      };
    });
  }

  async function run(device: GPUDevice, tracker: BufferTracker, writes: ReturnType<typeof plan>) {
    const ring = new StagingRing(device, tracker);
    const watch = new GpuErrorWatch(device);
    const transport = new LoneBatchTransport(
      new StagingTransport(device, ring, watch),
      new WriteBufferTransport(device),
    );
    const dst = await tracker.create({
      label: 'destination',
      size: WORDS * 4,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    const want = new Uint32Array(WORDS);
    for (const { i, start, words, alone, flush } of writes) {
      const values = Uint32Array.from({ length: words }, (_, k) => word(i, k));
      want.set(values, start);
      transport.nextBatch(alone);
      expect(transport.direct).toBe(alone);
      await transport.begin(words * 4);
      if (i % 2 === 0) {
        transport.write(dst, start * 4, words * 4, (target, offset) => {
          new Uint32Array(target, offset, words).set(values);
        });
      } else {
        transport.writeBytes(dst, start * 4, new Uint8Array(values.buffer));
      }
      if (flush) transport.flush();
    }
    await transport.finish();
    await watch.settle();
    const got = new Uint32Array((await readBytes(device, tracker, dst, WORDS * 4)).buffer);
    tracker.destroy(dst);
    ring.destroy();
    return { got, want };
  }

  it('keeps queue order across the switch: where writes overlap, the later one wins on the GPU, as on the CPU', async () => {
    await withDevice(async (device) => {
      const tracker = new BufferTracker(device);
      const { got, want } = await run(device, tracker, plan(60, 7));
      const wrong = got.findIndex((w, at) => w !== want[at]);
      expect(wrong, 'first word that differs from the writes applied in order').toBe(-1);
      expect(tracker.count).toBe(0);
    });
  });

  it('writes batches that come alone without any staging buffer', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const writes = plan(12, 3).map((w) => ({ ...w, alone: true }));
      const { got, want } = await run(device, tracker, writes);
      expect(got.findIndex((w, at) => w !== want[at])).toBe(-1);
      expect(stagingBuffersMade(probe)).toBe(0);
    });
  });
});
