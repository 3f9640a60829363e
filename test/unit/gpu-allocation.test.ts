import { beforeAll, describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { GpuErrorWatch } from '../../src/core/gpu/error-scope.js';
import { GrowableBuffer } from '../../src/core/gpu/growable-buffer.js';

// The GPU's own out-of-memory answer is exercised in the browser (e2e/failures.spec.ts); here a fake
// device answers the error scopes as told, so every mapping is checked without a GPU.

type Scope = 'out-of-memory' | 'validation';

/** A device whose next `createBuffer` fails in the error scope `failWith`, if set. */
class FakeDevice {
  readonly limits = { maxBufferSize: 1 << 20 };
  readonly queue = { submit() {} };
  readonly created: Array<{ size: number; destroyed: boolean }> = [];
  failWith: Scope | null = null;
  readonly #scopes: Array<{ filter: Scope; error: { message: string } | null }> = [];

  pushErrorScope(filter: Scope): void {
    this.#scopes.push({ filter, error: null });
  }

  async popErrorScope(): Promise<{ message: string } | null> {
    return this.#scopes.pop()?.error ?? null;
  }

  createBuffer(descriptor: { size: number }): { size: number; destroy(): void } {
    const record = { size: descriptor.size, destroyed: false };
    this.created.push(record);
    if (this.failWith) {
      const scope = [...this.#scopes].reverse().find((s) => s.filter === this.failWith);
      if (scope) scope.error = { message: `fake ${this.failWith} error` };
    }
    return {
      size: descriptor.size,
      destroy: () => {
        record.destroyed = true;
      },
    };
  }

  createCommandEncoder() {
    return { copyBufferToBuffer() {}, finish: () => ({}) };
  }
}

function setUp(maxBufferBytes?: number) {
  const fake = new FakeDevice();
  const device = fake as unknown as GPUDevice;
  return { fake, device, tracker: new BufferTracker(device, maxBufferBytes) };
}

async function failureOf(promise: Promise<unknown>): Promise<ArrowGpuError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArrowGpuError);
  return error as ArrowGpuError;
}

beforeAll(() => {
  // GrowableBuffer asks for STORAGE | VERTEX | COPY_DST | COPY_SRC; Node has no WebGPU globals.
  Object.assign(globalThis, { GPUBufferUsage: { STORAGE: 128, VERTEX: 32, COPY_DST: 8, COPY_SRC: 4 } });
});

describe('GPU allocation failures', () => {
  it('maps an out-of-memory error scope to GPU_OUT_OF_MEMORY and destroys the buffer', async () => {
    const { fake, tracker } = setUp();
    fake.failWith = 'out-of-memory';
    const error = await failureOf(tracker.create({ label: 'column "x"', size: 4096, usage: 0 }));
    expect(error.code).toBe('GPU_OUT_OF_MEMORY');
    expect(error.message).toContain('column "x"');
    expect(error.message).toContain('fake out-of-memory error');
    expect(fake.created.map((b) => b.destroyed)).toEqual([true]);
    expect([tracker.count, tracker.bytes]).toEqual([0, 0]);
  });

  it('maps a validation error scope to GPU_VALIDATION and destroys the buffer', async () => {
    const { fake, tracker } = setUp();
    fake.failWith = 'validation';
    const error = await failureOf(tracker.create({ label: 'staging', size: 4096, usage: 0 }));
    expect(error.code).toBe('GPU_VALIDATION');
    expect(fake.created.map((b) => b.destroyed)).toEqual([true]);
    expect(tracker.count).toBe(0);
  });

  it("refuses a buffer over the device's maxBufferSize with LIMIT_EXCEEDED before asking the device", async () => {
    const { fake, tracker } = setUp();
    const error = await failureOf(tracker.create({ label: 'staging', size: (1 << 20) + 4, usage: 0 }));
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.message).toContain("the device's maxBufferSize");
    expect(error.details).toMatchObject({ expected: 1 << 20, actual: (1 << 20) + 4 });
    expect(fake.created).toEqual([]);
  });

  it('caps column buffers at maxBufferBytes, naming the column, and keeps what the column had', async () => {
    const { fake, device, tracker } = setUp(4096);
    const column = new GrowableBuffer(device, tracker, new GpuErrorWatch(device), 'column "x"', {
      column: 'x',
      arrowType: 'Float32',
    });
    // A large preferred size is clamped to the cap rather than refused.
    await column.reserve(1024, 0, 1 << 20);
    expect(column.capacity).toBe(4096);
    const error = await failureOf(column.reserve(8192, 4096, 8192));
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.message).toContain(
      'column "x" needs a GPU buffer of 8.0 KiB (8192 bytes), over the loader\'s maxBufferBytes of 4.0 KiB',
    );
    expect(error.details).toMatchObject({ column: 'x', arrowType: 'Float32', expected: 4096, actual: 8192 });
    expect(column.capacity).toBe(4096);
    column.destroy();
    expect(fake.created.every((b) => b.destroyed)).toBe(true);
    expect(tracker.count).toBe(0);
  });

  it('leaves staging and read-back buffers to the device limit alone, whatever maxBufferBytes is', async () => {
    const { tracker } = setUp(4096);
    const staging = await tracker.create({ label: 'staging', size: 65536, usage: 0 });
    expect(staging.size).toBe(65536);
    expect(tracker.columnLimit).toEqual({ bytes: 4096, name: "the loader's maxBufferBytes" });
  });
});
