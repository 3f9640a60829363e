import type { BufferTracker } from '../buffer-tracker.js';
import { type ScopedGpuError, withErrorScope } from '../error-scope.js';
import { MAX_IN_FLIGHT } from '../upload/transport.js';
import type { DeviceChannel, RemoteBufferSpec, RemoteWrite, WrittenChunk } from './device-channel.js';
import { TaskSlicer } from './task-slicer.js';

/** Bytes of one `writeBuffer` call: a write takes time in proportion, so long ones are cut. */
export const WRITE_SLICE_BYTES = 2 << 20;

/**
 * The caller's side of a `DeviceChannel`: makes the buffers a worker's loads ask for on the caller's
 * device (through its tracker) and writes the chunks they post with `queue.writeBuffer`, in order, in
 * slices so that no task of it runs long, with at most `MAX_IN_FLIGHT` chunks submitted and not done.
 */
export class DeviceWriter implements DeviceChannel {
  readonly #device: GPUDevice;
  readonly #tracker: BufferTracker;
  readonly #buffers = new Map<number, GPUBuffer>();
  readonly #submitted: Promise<unknown>[] = [];
  readonly #scopes: Promise<ScopedGpuError | null>[] = [];
  readonly slicer: TaskSlicer;
  #chain: Promise<unknown> = Promise.resolve();
  #failure: ScopedGpuError | null = null;

  constructor(device: GPUDevice, tracker: BufferTracker, slicer = new TaskSlicer()) {
    this.#device = device;
    this.#tracker = tracker;
    this.slicer = slicer;
  }

  /** Buffers made and not destroyed. */
  get liveBuffers(): number {
    return this.#buffers.size;
  }

  /** The buffer of id `id`, while alive. */
  buffer(id: number): GPUBuffer | undefined {
    return this.#buffers.get(id);
  }

  create(spec: RemoteBufferSpec): Promise<ScopedGpuError | null> {
    return this.#inOrder(async () => {
      const { id, label, size, usage } = spec;
      const { result: buffer, error } = withErrorScope(this.#device, () =>
        this.#device.createBuffer({ label, size, usage }),
      );
      this.#tracker.adopt(buffer, size);
      this.#buffers.set(id, buffer);
      const failure = await error;
      if (failure) this.#drop(id);
      return failure;
    });
  }

  write(bytes: ArrayBuffer, writes: RemoteWrite[]): Promise<WrittenChunk> {
    return this.#inOrder(async () => {
      if (this.#submitted.length >= MAX_IN_FLIGHT) await this.#submitted.shift();
      this.slicer.started();
      for (const write of writes) await this.#writeOne(bytes, write);
      const done = this.#device.queue.onSubmittedWorkDone();
      done.catch(() => {}); // a lost device is reported by the load's next step
      this.#submitted.push(done);
      return { bytes, error: this.#failure };
    });
  }

  destroy(ids: number[]): Promise<void> {
    return this.#inOrder(async () => {
      for (const id of ids) this.#drop(id);
    });
  }

  done(): Promise<ScopedGpuError | null> {
    return this.#inOrder(async () => {
      await this.#device.queue.onSubmittedWorkDone();
      const errors = await Promise.all(this.#scopes.splice(0));
      this.#failure ??= errors.find((e) => e !== null) ?? null;
      return this.#failure;
    });
  }

  /** Destroys every buffer made here (the loader closed, or its worker died). */
  destroyAll(): void {
    for (const id of [...this.#buffers.keys()]) this.#drop(id);
  }

  async #writeOne(bytes: ArrayBuffer, { id, dstOffset, srcOffset, byteLength }: RemoteWrite): Promise<void> {
    const buffer = this.#buffers.get(id);
    if (!buffer) {
      this.#failure ??= { kind: 'validation', message: `buffer ${id} was destroyed before it was written` };
      return;
    }
    for (let at = 0; at < byteLength; at += WRITE_SLICE_BYTES) {
      const size = Math.min(WRITE_SLICE_BYTES, byteLength - at);
      const { error } = withErrorScope(this.#device, () =>
        this.#device.queue.writeBuffer(buffer, dstOffset + at, bytes, srcOffset + at, size),
      );
      this.#watch(error);
      await this.slicer.maybeYield();
    }
  }

  /** Keeps a write's scope to report at `done`, and its error as soon as it is known. */
  #watch(error: Promise<ScopedGpuError | null>): void {
    this.#scopes.push(error);
    void error.then(
      (failure) => {
        if (failure) this.#failure ??= failure;
      },
      () => {},
    );
  }

  #drop(id: number): void {
    const buffer = this.#buffers.get(id);
    if (!buffer) return;
    this.#buffers.delete(id);
    this.#tracker.destroy(buffer);
  }

  /** Runs calls one after another, in the order they came. */
  #inOrder<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work);
    this.#chain = run.catch(() => {});
    return run;
  }
}
