import { expect } from 'vitest';
import { create, globals } from 'webgpu';
import type { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { GpuContext } from '../../src/core/gpu/device-context.js';
import { readBack } from '../../src/core/gpu/readback.js';

// Real WebGPU in Node: Dawn, on whatever Vulkan driver vite.config.ts points it at (SwiftShader on a
// machine without a GPU). GPUBufferUsage, GPUMapMode and the other WebGPU globals come from here too.
Object.assign(globalThis, globals);

// Referenced for the life of the process: Dawn crashes in mapAsync waits once this object is collected.
const gpu: GPU = create([]);

const NO_ADAPTER =
  'Dawn (the webgpu package) found no WebGPU adapter. Its Vulkan loader needs LD_LIBRARY_PATH and ' +
  "VK_ICD_FILENAMES, which vite.config.ts sets for the test workers from Chromium's SwiftShader in " +
  '/usr/lib/chromium (or beside CHROME_PATH): install Chromium (apt-get install chromium) or point CHROME_PATH at it.';

/** Dawn's `GPU`, for code that opens its own device (`GpuContext.open`, `LoaderService`). */
export function dawnGpu(): GPU {
  return gpu;
}

/** Opens a device with the adapter's own buffer limits; throws, failing the test, when there is no adapter. */
export async function openDevice(): Promise<GPUDevice> {
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error(NO_ADAPTER);
  return adapter.requestDevice({ requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize } });
}

/** One buffer created on a probed device. */
export interface BufferRecord {
  readonly buffer: GPUBuffer;
  readonly label: string;
  readonly size: number;
  readonly usage: number;
  destroyed: boolean;
  /** A `MAP_WRITE` buffer unmapped (so its copies can be submitted) and not mapped again yet. */
  pending: boolean;
}

/** Fault injection: each runs before the device sees the call. */
export interface ProbeHooks {
  created?: (record: BufferRecord) => void;
  /** `submits` counts this one. */
  beforeSubmit?: (submits: number) => void;
  /** `writes` counts this one. */
  beforeWrite?: (dst: GPUBuffer, writes: number) => void;
}

/**
 * Watches what code does with a device by wrapping the device's, its queue's and its buffers' own
 * methods (Dawn's objects take own properties; the native calls still get the real objects). The counts
 * are measured at the API, independently of the counters the library keeps about itself.
 */
export class DeviceProbe {
  /** Every buffer created on the device, in order. */
  readonly buffers: BufferRecord[] = [];
  /** Fault injection points; set them before the calls they should see. */
  readonly hooks: ProbeHooks = {};
  /** `MAP_WRITE` (staging) buffers alive now. */
  mapWriteAlive = 0;
  /** The most staging buffers alive at once. */
  maxMapWriteAlive = 0;
  /** Staging buffers unmapped and not yet mapped again: their copies submitted, not done. */
  mapWritePending = 0;
  /** The most staging buffers pending at once. */
  maxMapWritePending = 0;
  /** `writeBuffer` submissions (an `onSubmittedWorkDone` call after writes) whose promise has not resolved. */
  writeSubmissionsInFlight = 0;
  /** The most `writeBuffer` submissions in flight at once. */
  maxWriteSubmissionsInFlight = 0;
  /** The most of: submissions in flight, plus one for writes not yet followed by `onSubmittedWorkDone`. */
  maxWriteGroupsOutstanding = 0;
  /** `writeBuffer` submissions so far. */
  writeSubmissions = 0;
  /** `queue.submit` calls so far. */
  submits = 0;
  /** `queue.writeBuffer` calls so far. */
  writes = 0;
  #unsubmittedWrites = 0;

  constructor(readonly device: GPUDevice) {
    const createBuffer = device.createBuffer.bind(device);
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      const buffer = createBuffer(descriptor);
      this.#track(buffer, descriptor);
      return buffer;
    };
    this.#wrapQueue(device.queue);
  }

  /** Buffers created and not destroyed. */
  live(): BufferRecord[] {
    return this.buffers.filter((b) => !b.destroyed);
  }

  /** The newest live buffer with this label. */
  latest(label: string): BufferRecord | undefined {
    return this.live().findLast((b) => b.label === label);
  }

  #track(buffer: GPUBuffer, descriptor: GPUBufferDescriptor): void {
    const record: BufferRecord = {
      buffer,
      label: descriptor.label ?? '',
      size: descriptor.size,
      usage: descriptor.usage,
      destroyed: false,
      pending: false,
    };
    this.buffers.push(record);
    const staging = (descriptor.usage & GPUBufferUsage.MAP_WRITE) !== 0;
    if (staging) this.#stagingAlive(1);
    const { destroy, unmap, mapAsync } = buffer;
    buffer.destroy = () => {
      if (!record.destroyed) {
        record.destroyed = true;
        if (staging) this.#stagingAlive(-1);
        if (record.pending) this.#stagingPending(record, false);
      }
      return destroy.call(buffer);
    };
    buffer.unmap = () => {
      if (staging && !record.destroyed && buffer.mapState === 'mapped') this.#stagingPending(record, true);
      return unmap.call(buffer);
    };
    buffer.mapAsync = (...args: Parameters<GPUBuffer['mapAsync']>) => {
      const mapped = mapAsync.apply(buffer, args);
      // Attached before the caller's handlers, so the count drops before the caller reuses the buffer.
      mapped.then(
        () => {
          if (record.pending) this.#stagingPending(record, false);
        },
        () => {},
      );
      return mapped;
    };
    this.hooks.created?.(record);
  }

  #stagingAlive(delta: number): void {
    this.mapWriteAlive += delta;
    this.maxMapWriteAlive = Math.max(this.maxMapWriteAlive, this.mapWriteAlive);
  }

  #stagingPending(record: BufferRecord, pending: boolean): void {
    record.pending = pending;
    this.mapWritePending += pending ? 1 : -1;
    this.maxMapWritePending = Math.max(this.maxMapWritePending, this.mapWritePending);
  }

  #wrapQueue(queue: GPUQueue): void {
    const { submit, writeBuffer, onSubmittedWorkDone } = queue;
    queue.submit = (commandBuffers: Iterable<GPUCommandBuffer>) => {
      this.submits++;
      this.hooks.beforeSubmit?.(this.submits);
      return submit.call(queue, commandBuffers);
    };
    queue.writeBuffer = (...args: Parameters<GPUQueue['writeBuffer']>) => {
      this.writes++;
      this.hooks.beforeWrite?.(args[0], this.writes);
      this.#unsubmittedWrites++;
      this.#noteWriteGroups();
      return writeBuffer.apply(queue, args);
    };
    queue.onSubmittedWorkDone = () => {
      const done = onSubmittedWorkDone.call(queue);
      if (this.#unsubmittedWrites === 0) return done;
      this.#unsubmittedWrites = 0;
      this.writeSubmissions++;
      this.writeSubmissionsInFlight++;
      this.maxWriteSubmissionsInFlight = Math.max(
        this.maxWriteSubmissionsInFlight,
        this.writeSubmissionsInFlight,
      );
      const settled = () => {
        this.writeSubmissionsInFlight--;
      };
      done.then(settled, settled);
      return done;
    };
  }

  #noteWriteGroups(): void {
    const outstanding = this.writeSubmissionsInFlight + (this.#unsubmittedWrites > 0 ? 1 : 0);
    this.maxWriteGroupsOutstanding = Math.max(this.maxWriteGroupsOutstanding, outstanding);
  }
}

/** Options of `withDevice` and `withContext`. */
export interface DeviceTestOptions {
  /**
   * Wrap the test in validation, out-of-memory and internal error scopes that must catch nothing (an
   * error the library's own scopes missed). Default true; off for tests that need `uncapturederror`.
   */
  errorScopes?: boolean;
}

const SCOPES: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/** Runs `body`, then checks that no GPU error escaped and every buffer (made from `since` on) was destroyed. */
async function checked<T>(
  device: GPUDevice,
  probe: DeviceProbe,
  options: DeviceTestOptions,
  body: () => Promise<T>,
  beforeCheck: () => Promise<void> = async () => {},
  since = 0,
): Promise<T> {
  const scoped = options.errorScopes !== false;
  if (scoped) for (const filter of SCOPES) device.pushErrorScope(filter);
  // Popped in one go whatever happens, so that the device's scope stack stays balanced.
  const pop = () =>
    Promise.all(SCOPES.map(() => device.popErrorScope().catch(() => null))).then((errors) =>
      errors.filter((e) => e !== null).map((e) => e.message),
    );
  let result: T;
  try {
    result = await body();
    await beforeCheck();
  } catch (error) {
    if (scoped) await pop();
    throw error;
  }
  const escaped = scoped ? await pop() : [];
  expect(escaped, 'GPU errors that no error scope of the library caught').toEqual([]);
  const made = probe.buffers.slice(since);
  const leaked = made
    .filter((b) => !b.destroyed)
    .map((b) => `${b.label || '(unlabelled)'} (${b.size} bytes)`);
  expect(leaked, 'GPU buffers never destroyed').toEqual([]);
  return result;
}

/**
 * Runs `test` on a fresh Dawn device with a probe on it, inside error scopes; then expects every buffer
 * created on it destroyed and no GPU error uncaught, and destroys the device.
 */
export async function withDevice<T>(
  test: (device: GPUDevice, probe: DeviceProbe) => Promise<T>,
  options: DeviceTestOptions = {},
): Promise<T> {
  const device = await openDevice();
  const probe = new DeviceProbe(device);
  try {
    return await checked(device, probe, options, () => test(device, probe));
  } finally {
    device.destroy();
  }
}

/**
 * As `withDevice`, on a `GpuContext` (the device as the loader opens it, with its tracker and staging
 * ring). At the end the ring must come back to idle; it is trimmed before the leak check.
 */
export async function withContext<T>(
  test: (context: GpuContext, probe: DeviceProbe) => Promise<T>,
  options: DeviceTestOptions & { maxBufferBytes?: number } = {},
): Promise<T> {
  const context = await GpuContext.open(gpu, () => {}, options.maxBufferBytes);
  const probe = new DeviceProbe(context.device);
  try {
    return await checked(context.device, probe, options, () => test(context, probe), idleCheck(context));
  } finally {
    context.device.destroy();
  }
}

/** At the end of a test: the staging ring idle, then trimmed, and the tracker holding no buffer. */
function idleCheck(context: GpuContext): () => Promise<void> {
  return async () => {
    if (context.lostReason !== null) return;
    await ringIdle(context);
    context.ring.trim();
    expect(context.tracker.count, 'buffers the tracker still holds').toBe(0);
  };
}

/** One context for several tests (`run` each, `close` after all), with `withContext`'s checks on each. */
export interface SharedContext {
  run<T>(test: (context: GpuContext, probe: DeviceProbe) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A `GpuContext` shared by the tests of a file, so that the pipelines they compile are compiled once
 * (Dawn reuses a pipeline of the same code on the same device; SwiftShader takes seconds to compile one).
 * Each `run` checks, as `withContext` does, that no GPU error escaped and that every buffer it made was
 * destroyed.
 */
export function sharedContext(options: DeviceTestOptions = {}): SharedContext {
  let opened: Promise<{ context: GpuContext; probe: DeviceProbe }> | null = null;
  const open = async () => {
    const context = await GpuContext.open(gpu, () => {});
    return { context, probe: new DeviceProbe(context.device) };
  };
  return {
    async run(test) {
      opened ??= open();
      const { context, probe } = await opened;
      const since = probe.buffers.length;
      const body = () => test(context, probe);
      return checked(context.device, probe, options, body, idleCheck(context), since);
    },
    async close() {
      if (opened) (await opened).context.device.destroy();
      opened = null;
    },
  };
}

/** Waits until no staging slot is held or waiting for the GPU; fails after `ms`. */
export async function ringIdle(context: GpuContext, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (context.ring.inFlight > 0) {
    if (performance.now() > deadline)
      throw new Error(`${context.ring.inFlight} staging slot(s) never came back`);
    await context.device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Reads a buffer's first `byteLength` bytes back with the library's `readBack`. */
export async function readBytes(
  device: GPUDevice,
  tracker: BufferTracker,
  buffer: GPUBuffer,
  byteLength: number,
): Promise<Uint8Array> {
  return new Uint8Array(await readBack(device, tracker, buffer, byteLength, buffer.label));
}

/** Waits until `condition` holds, checking every few milliseconds; fails after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
