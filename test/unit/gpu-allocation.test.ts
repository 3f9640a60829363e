import { describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { ChunkLayout, rowsWithin } from '../../src/core/gpu/chunk-layout.js';
import { ChunkedBuffer } from '../../src/core/gpu/chunked-buffer.js';
import type { LoadedTable } from '../../src/core/pipeline/load.js';
import { destroyTable } from '../../src/core/service/table-store.js';
import { dawnGpu, readBytes, withContext, withDevice } from '../support/dawn.js';

async function failureOf(promise: Promise<unknown>): Promise<ArrowGpuError> {
  const error = await promise.then(
    () => new Error('it succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArrowGpuError);
  return error as ArrowGpuError;
}

const COPY = () => GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

function pattern(words: number, seed: number): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(words);
  for (let i = 0; i < words; i++) out[i] = (Math.imul(i + 1, 2654435761) ^ seed) >>> 0;
  return out;
}

describe('GPU allocation on Dawn', () => {
  it("opens the device with the adapter's own maxBufferSize, not WebGPU's default", async () => {
    const adapter = await dawnGpu().requestAdapter();
    await withContext(async (context) => {
      expect(context.device.limits.maxBufferSize).toBe(adapter?.limits.maxBufferSize);
      expect(context.summary.maxBufferSize).toBe(context.device.limits.maxBufferSize);
      expect(context.tracker.columnLimit).toEqual(context.tracker.deviceLimit);
    });
  });

  it("refuses a buffer over the device's maxBufferSize with LIMIT_EXCEEDED, without asking the device", async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const size = device.limits.maxBufferSize + 4;
      const error = await failureOf(tracker.create({ label: 'staging', size, usage: COPY() }));
      expect(error.code).toBe('LIMIT_EXCEEDED');
      expect(error.message).toContain("the device's maxBufferSize");
      expect(error.details).toMatchObject({ expected: device.limits.maxBufferSize, actual: size });
      expect(probe.buffers).toEqual([]);
      // The limit is the device's own: asked directly, Dawn refuses the same buffer.
      device.pushErrorScope('validation');
      device.createBuffer({ label: 'direct', size, usage: COPY() }).destroy();
      expect((await device.popErrorScope())?.message).toMatch(/maxBufferSize|size/i);
    });
  });

  it('maps a buffer the device refuses to GPU_VALIDATION with its message, and destroys it', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const usage = GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE; // not a valid combination
      const error = await failureOf(tracker.create({ label: 'column "x"', size: 4096, usage }));
      expect(error.code).toBe('GPU_VALIDATION');
      expect(error.message).toContain('column "x": creating a GPU buffer of 4.0 KiB');
      expect(error.message).toMatch(/usage.*is invalid/i);
      expect(probe.buffers.map((b) => [b.label, b.destroyed])).toEqual([['column "x"', true]]);
      expect([tracker.count, tracker.bytes]).toEqual([0, 0]);
    });
  });

  it('caps column buffers at maxBufferBytes, naming the column, and keeps what the column had', async () => {
    await withDevice(async (device) => {
      const tracker = new BufferTracker(device, 4096);
      expect(tracker.columnLimit).toEqual({ bytes: 4096, name: "the loader's maxBufferBytes" });
      const bytesOf = (rows: number) => rows * 4; // one word a row
      const layout = new ChunkLayout(1 << 20, rowsWithin(4096, bytesOf));
      const details = { column: 'x', arrowType: 'Float32' };
      const column = new ChunkedBuffer(tracker, layout, 'column "x"', details, bytesOf);
      // A large estimate is clamped to the cap rather than refused.
      layout.extend(1024, 1 << 20);
      await column.allocate();
      expect(layout.capacity).toBe(1024);
      const [chunk] = column.buffers(1024);
      expect(chunk?.buffer.size).toBe(4096);
      const written = pattern(1024, 1);
      device.queue.writeBuffer(chunk?.buffer as GPUBuffer, 0, written);
      let error: unknown = null;
      try {
        column.checkTotal(2048);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ArrowGpuError);
      expect((error as ArrowGpuError).code).toBe('LIMIT_EXCEEDED');
      expect((error as ArrowGpuError).message).toContain(
        'column "x" needs 8.0 KiB (8192 bytes) of GPU buffers, over the loader\'s maxBufferBytes of 4.0 KiB',
      );
      expect((error as ArrowGpuError).details).toMatchObject({ ...details, expected: 4096, actual: 8192 });
      expect(column.buffers(1024).map((c) => c.buffer)).toEqual([chunk?.buffer]);
      const kept = await readBytes(device, tracker, chunk?.buffer as GPUBuffer, 4096);
      expect(new Uint32Array(kept.buffer)).toEqual(written);
      column.destroy();
      expect(tracker.count).toBe(0);
    });
  });

  it('grows a column by adding chunks: a buffer, once made, is never replaced and keeps its bytes', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const layout = new ChunkLayout(1 << 20);
      const column = new ChunkedBuffer(tracker, layout, 'column "x"', {}, (rows) => rows * 4);
      layout.extend(250, 0);
      await column.allocate();
      const first = column.buffers(250)[0]?.buffer as GPUBuffer;
      const words = pattern(250, 2);
      device.queue.writeBuffer(first, 0, words);
      layout.extend(1250, 0);
      await column.allocate();
      const chunks = column.buffers(1250);
      expect(chunks[0]?.buffer).toBe(first);
      expect(chunks.map((c) => [c.rowOffset, c.rows])).toEqual([
        [0, 256],
        [256, 994],
      ]);
      const kept = await readBytes(device, tracker, first, 1000);
      expect(new Uint32Array(kept.buffer)).toEqual(words);
      // Nothing was destroyed to grow the column.
      expect(probe.buffers.filter((b) => b.label === 'column "x"').map((b) => b.destroyed)).toEqual([
        false,
        false,
      ]);
      column.destroy();
    });
  });

  it('leaves staging and read-back buffers to the device limit alone, whatever maxBufferBytes is', async () => {
    await withDevice(async (device) => {
      const tracker = new BufferTracker(device, 4096);
      const usage = GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC;
      const staging = await tracker.create({ label: 'staging', size: 65536, usage });
      expect(staging.size).toBe(65536);
      const source = await tracker.create({ label: 'source', size: 65536, usage: COPY() });
      expect((await readBytes(device, tracker, source, 65536)).byteLength).toBe(65536);
      tracker.destroyAll();
    });
  });

  it('has the device release destroyed buffers with one empty submission, only after a destroy', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      tracker.releaseDestroyed();
      expect(probe.submits, 'nothing destroyed yet: nothing to submit').toBe(0);
      const a = await tracker.create({ label: 'a', size: 1 << 20, usage: COPY() });
      const b = await tracker.create({ label: 'b', size: 4096, usage: COPY() });
      tracker.destroy(a);
      tracker.destroy(b);
      expect(probe.submits, 'destroying submits nothing by itself').toBe(0);
      tracker.releaseDestroyed();
      expect(probe.submits).toBe(1);
      tracker.releaseDestroyed();
      expect(probe.submits, 'released once per set of destroyed buffers').toBe(1);
      await device.queue.onSubmittedWorkDone();
    });
  });

  it('submits nothing from a tracker of a device on another thread (its writer releases instead)', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device, undefined, false);
      tracker.destroy(await tracker.create({ label: 'a', size: 4096, usage: COPY() }));
      tracker.releaseDestroyed();
      expect(probe.submits).toBe(0);
    });
  });

  it('releases a destroyed table and trimmed staging buffers on the loader path', async () => {
    await withContext(async (context, probe) => {
      const slot = await context.ring.acquire(4096);
      context.ring.release(slot);
      const before = probe.submits;
      context.ring.trim();
      context.tracker.releaseDestroyed();
      expect(probe.submits).toBe(before + 1);
      const column = await context.tracker.create({ label: 'column', size: 4096, usage: COPY() });
      destroyTable(
        { numRows: 0, columns: [{ values: [{ buffer: column }], validity: null }] } as unknown as LoadedTable,
        context,
      );
      expect(probe.buffers.find((b) => b.label === 'column')?.destroyed).toBe(true);
      expect(probe.submits, 'a destroyed table is released at once').toBe(before + 2);
    });
  });
});

// An out-of-memory error scope cannot be produced on Dawn here: SwiftShader allocates host memory, and
// getting it to refuse would mean exhausting the memory of a machine shared with other test runs. So a
// fake device answers that one scope; everything else above runs on the real device.
describe('GPU allocation: out of memory (fake device)', () => {
  class OutOfMemoryDevice {
    readonly limits = { maxBufferSize: 1 << 20 };
    readonly created: Array<{ size: number; destroyed: boolean }> = [];
    readonly #scopes: Array<{ filter: GPUErrorFilter; error: { message: string } | null }> = [];

    pushErrorScope(filter: GPUErrorFilter): void {
      this.#scopes.push({ filter, error: null });
    }

    async popErrorScope(): Promise<{ message: string } | null> {
      return this.#scopes.pop()?.error ?? null;
    }

    createBuffer(descriptor: { size: number }): { size: number; destroy(): void } {
      const record = { size: descriptor.size, destroyed: false };
      this.created.push(record);
      const scope = this.#scopes.findLast((s) => s.filter === 'out-of-memory');
      if (scope) scope.error = { message: 'fake out-of-memory error' };
      return {
        size: descriptor.size,
        destroy: () => {
          record.destroyed = true;
        },
      };
    }
  }

  it('maps an out-of-memory error scope to GPU_OUT_OF_MEMORY and destroys the buffer', async () => {
    const fake = new OutOfMemoryDevice();
    const tracker = new BufferTracker(fake as unknown as GPUDevice);
    const error = await failureOf(tracker.create({ label: 'column "x"', size: 4096, usage: 0 }));
    expect(error.code).toBe('GPU_OUT_OF_MEMORY');
    expect(error.message).toContain('column "x"');
    expect(error.message).toContain('fake out-of-memory error');
    expect(fake.created.map((b) => b.destroyed)).toEqual([true]);
    expect([tracker.count, tracker.bytes]).toEqual([0, 0]);
  });
});
