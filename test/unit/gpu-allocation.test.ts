import { describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { GpuErrorWatch } from '../../src/core/gpu/error-scope.js';
import { GrowableBuffer } from '../../src/core/gpu/growable-buffer.js';
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
      const watch = new GpuErrorWatch(device);
      const column = new GrowableBuffer(device, tracker, watch, 'column "x"', {
        column: 'x',
        arrowType: 'Float32',
      });
      // A large preferred size is clamped to the cap rather than refused.
      await column.reserve(1024, 0, 1 << 20);
      expect(column.capacity).toBe(4096);
      const written = pattern(1024, 1);
      device.queue.writeBuffer(column.buffer, 0, written);
      const error = await failureOf(column.reserve(8192, 4096, 8192));
      expect(error.code).toBe('LIMIT_EXCEEDED');
      expect(error.message).toContain(
        'column "x" needs a GPU buffer of 8.0 KiB (8192 bytes), over the loader\'s maxBufferBytes of 4.0 KiB',
      );
      expect(error.details).toMatchObject({
        column: 'x',
        arrowType: 'Float32',
        expected: 4096,
        actual: 8192,
      });
      expect(column.capacity).toBe(4096);
      const kept = await readBytes(device, tracker, column.buffer, 4096);
      expect(new Uint32Array(kept.buffer)).toEqual(written);
      column.destroy();
      await watch.settle();
      expect(tracker.count).toBe(0);
    });
  });

  it('grows a column buffer by copying the bytes written so far on the GPU', async () => {
    await withDevice(async (device, probe) => {
      const tracker = new BufferTracker(device);
      const watch = new GpuErrorWatch(device);
      const column = new GrowableBuffer(device, tracker, watch, 'column "x"');
      await column.reserve(1000, 0, 0);
      const first = pattern(250, 2);
      device.queue.writeBuffer(column.buffer, 0, first);
      await column.reserve(5000, 1000, 0);
      expect(column.capacity).toBe(5000);
      await watch.settle();
      const grown = await readBytes(device, tracker, column.buffer, 1000);
      expect(new Uint32Array(grown.buffer)).toEqual(first);
      // The old buffer went as the new one came.
      expect(probe.buffers.filter((b) => b.label === 'column "x"').map((b) => b.destroyed)).toEqual([
        true,
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
