import { nextTask } from '../../next-task.js';
import type { BufferTracker } from '../buffer-tracker.js';
import { type ScopedGpuError, withErrorScope } from '../error-scope.js';
import type { StagingRing } from '../upload/staging-ring.js';
import { MAX_IN_FLIGHT } from '../upload/transport.js';
import { ChunkStager } from './chunk-stager.js';
import type { DeviceChannel, RemoteBufferSpec, RemoteWrite, WrittenChunk } from './device-channel.js';
import { REMOTE_CHUNK_BYTES } from './remote-transport.js';
import { TaskSlicer } from './task-slicer.js';

/** The writes of one load (or one lone write): their error scopes, and the first error they raised. */
interface Session {
  scopes: Promise<ScopedGpuError | null>[];
  failure: ScopedGpuError | null;
  /** Chunks of it large enough to stage, so far. */
  large: number;
}

function newSession(): Session {
  return { scopes: [], failure: null, large: 0 };
}

/** The first error of a session's writes, once every one of them is known. */
async function settle(session: Session): Promise<ScopedGpuError | null> {
  const errors = await Promise.all(session.scopes.splice(0));
  session.failure ??= errors.find((e) => e !== null) ?? null;
  return session.failure;
}

/** How long the staging ring's buffers stay once no load writes (as on the worker's device). */
export const STAGING_IDLE_MS = 1000;

/** How a `DeviceWriter` writes. */
export interface DeviceWriterOptions {
  /** Cuts the writes into tasks. */
  slicer?: TaskSlicer;
  /** Bytes written by `writeBuffer` and not yet known done on the GPU, at most (see the class). */
  maxSubmittedBytes?: number;
  /** The device's staging ring: chunks of `minStagedBytes` or more are copied through it. */
  ring?: StagingRing;
  minStagedBytes?: number;
  /** How long the ring's buffers stay once no load writes. */
  stagingIdleMs?: number;
}

/** The failure of a write whose buffer was destroyed before it (by a load that failed meanwhile). */
function destroyedBefore(write: RemoteWrite): ScopedGpuError {
  return { kind: 'validation', message: `buffer ${write.id} was destroyed before it was written` };
}

/** Bytes of one `writeBuffer` call: a write takes time in proportion, so long ones are cut. */
export const WRITE_SLICE_BYTES = 1 << 20;

/** A part of a write: `size` bytes from `at` into it. */
interface WriteSlice {
  write: RemoteWrite;
  at: number;
  size: number;
}

/** A chunk's writes cut into slices of at most `WRITE_SLICE_BYTES`, in order. */
function writeSlices(writes: readonly RemoteWrite[]): WriteSlice[] {
  const slices: WriteSlice[] = [];
  for (const write of writes) {
    for (let at = 0; at < write.byteLength; at += WRITE_SLICE_BYTES) {
      slices.push({ write, at, size: Math.min(WRITE_SLICE_BYTES, write.byteLength - at) });
    }
  }
  return slices;
}

/**
 * The caller's side of a `DeviceChannel`: makes the buffers a worker's loads ask for on the caller's
 * device (through its tracker) and writes the chunks they post, in order, in slices so that no task of it
 * runs long: large chunks through the device's staging ring (at most two staging buffers in flight),
 * others with `queue.writeBuffer`, with at most `MAX_IN_FLIGHT` full chunks' bytes submitted that way
 * and not done (`maxSubmittedBytes`).
 */
export class DeviceWriter implements DeviceChannel {
  readonly #device: GPUDevice;
  readonly #tracker: BufferTracker;
  readonly #buffers = new Map<number, GPUBuffer>();
  /** Chunks written and not yet done on the GPU, oldest first; each leaves the set once done. */
  readonly #submitted = new Set<Promise<unknown>>();
  #submittedBytes = 0;
  /** Each load's writes not yet reported by `done`: their error scopes and the first error known. */
  readonly #sessions = new Map<number, Session>();
  readonly slicer: TaskSlicer;
  readonly maxSubmittedBytes: number;
  readonly #stager: ChunkStager | null;
  readonly #stagingIdleMs: number;
  #trimTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by `destroyAll` (the loader closed): nothing is trimmed or submitted from then on. */
  #closed = false;
  #chain: Promise<unknown> = Promise.resolve();
  #releaseScheduled = false;
  /** Bytes of buffers made since no load was writing: those of the loads starting or under way. */
  #madeBytes = 0;
  /**
   * Why nothing is made or written from now on (the device was lost, or the worker whose loads these
   * are is gone): calls still queued, or arriving late, then make nothing that no one would destroy.
   */
  #stopped: string | null = null;

  /**
   * `maxSubmittedBytes`: bytes written by `writeBuffer` and not yet known done on the GPU, at most; past
   * it a chunk waits for the oldest to be done. Bytes rather than chunks, so that the small chunks of a
   * stream of small batches do not each wait for the GPU, while what the device holds stays bounded.
   * Without a `ring`, every chunk goes by `writeBuffer`.
   */
  constructor(device: GPUDevice, tracker: BufferTracker, options: DeviceWriterOptions = {}) {
    this.#device = device;
    this.#tracker = tracker;
    this.slicer = options.slicer ?? new TaskSlicer();
    this.maxSubmittedBytes = options.maxSubmittedBytes ?? MAX_IN_FLIGHT * REMOTE_CHUNK_BYTES;
    const { ring, minStagedBytes } = options;
    this.#stager = ring ? new ChunkStager(ring, device, this.slicer, minStagedBytes) : null;
    this.#stagingIdleMs = options.stagingIdleMs ?? STAGING_IDLE_MS;
  }

  /** Bytes written and not yet done on the GPU. */
  get submittedBytes(): number {
    return this.#submittedBytes;
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
      // A lost device still hands out buffers: none is made that no one would destroy.
      if (this.#stopped !== null) return { kind: 'validation', message: this.#stopped };
      const { result: buffer, error } = withErrorScope(this.#device, () =>
        this.#device.createBuffer({ label, size, usage }),
      );
      this.#tracker.adopt(buffer, size);
      this.#buffers.set(id, buffer);
      const failure = await error;
      if (failure) {
        this.#drop(id);
        return failure;
      }
      this.#madeBytes += size;
      if (this.#stager?.expect(this.#madeBytes)) this.#trimLater();
      return null;
    });
  }

  write(bytes: ArrayBuffer, writes: RemoteWrite[], session?: number): Promise<WrittenChunk> {
    return this.#inOrder(async () => {
      // Pending writes of a gone worker are dropped: the chunk goes back, unread, to no one.
      if (this.#stopped !== null) return { bytes, error: { kind: 'validation', message: this.#stopped } };
      const own: Session = session === undefined ? newSession() : this.#session(session);
      if (!(await this.#stage(bytes, writes, own))) {
        const size = writes.reduce((n, write) => n + write.byteLength, 0);
        await this.#roomFor(size);
        await this.#writeAll(bytes, writes, own);
        this.#track(this.#device.queue.onSubmittedWorkDone(), size);
      }
      if (session === undefined) return { bytes, error: await settle(own) };
      return { bytes, error: own.failure };
    });
  }

  destroy(ids: number[]): Promise<void> {
    return this.#inOrder(async () => {
      for (const id of ids) this.#drop(id);
      this.#releaseSoon();
    });
  }

  done(session?: number): Promise<ScopedGpuError | null> {
    return this.#outcome(session, true);
  }

  settled(session: number): Promise<ScopedGpuError | null> {
    return this.#outcome(session, false);
  }

  /** Once everything asked so far is done: the first error of `session`'s writes; `forget` ends the session. */
  #outcome(session: number | undefined, forget: boolean): Promise<ScopedGpuError | null> {
    return this.#inOrder(async () => {
      await this.#device.queue.onSubmittedWorkDone();
      if (session === undefined) return null;
      const own = this.#sessions.get(session);
      if (forget) {
        this.#sessions.delete(session);
        // A buffer made for this load and never used (it ended, or failed, first) goes with it.
        await this.#stager?.ring.discardPrepared();
        if (this.#sessions.size === 0) {
          this.#madeBytes = 0;
          this.#trimLater();
        }
      }
      return own ? settle(own) : null;
    });
  }

  /**
   * Destroys the staging ring's idle buffers once the writes asked so far are done, so that a loader
   * between loads holds only its tables on the caller's device; the next large chunk makes them again.
   */
  trimStaging(): Promise<void> {
    clearTimeout(this.#trimTimer);
    return this.#inOrder(async () => {
      const ring = this.#stager?.ring;
      if (!ring || this.#closed) return;
      await ring.prepared(); // a buffer being made is released too
      await ring.remapped(); // and those waiting for their copies
      ring.trim();
      this.#tracker.releaseDestroyed();
    });
  }

  /**
   * Trims the staging ring once no load has written for `stagingIdleMs`: after the last load's end, and
   * after a buffer made ahead (a load that never writes, or buffers made as a failed load is undone,
   * leaves it to this).
   */
  #trimLater(): void {
    clearTimeout(this.#trimTimer);
    if (!this.#stager || this.#closed || this.#stopped !== null) return;
    this.#trimTimer = setTimeout(() => {
      if (this.#sessions.size === 0) void this.trimStaging().catch(() => {});
    }, this.#stagingIdleMs);
  }

  /** The device was lost: its buffers are destroyed, and no more are made. */
  lose(reason: string): void {
    this.#stopped = `the device was lost: ${reason}`;
    this.destroyAll();
  }

  /**
   * The worker whose loads call this writer is gone (`reason`): its writes stop, even one halfway
   * through its slices, calls still queued or arriving late make and write nothing, each load's pending
   * outcomes are forgotten, and every buffer but those `keep` says a loaded table holds is destroyed,
   * staging buffers included.
   */
  abandon(reason: string, keep: (buffer: GPUBuffer) => boolean): void {
    this.#stopped = reason;
    clearTimeout(this.#trimTimer);
    this.#stager?.ring.destroy(new Error(reason)); // no load will write again
    this.#sessions.clear();
    for (const [id, buffer] of [...this.#buffers]) if (!keep(buffer)) this.#drop(id);
  }

  /** Destroys every buffer made here (the loader closed, or its worker died). */
  destroyAll(): void {
    this.#closed = true;
    clearTimeout(this.#trimTimer);
    for (const id of [...this.#buffers.keys()]) this.#drop(id);
  }

  /** Counts `size` bytes as submitted until `done` settles. */
  #track(done: Promise<unknown>, size: number): void {
    const tracked: Promise<unknown> = done.finally(() => {
      this.#submitted.delete(tracked);
      this.#submittedBytes -= size;
    });
    tracked.catch(() => {}); // a lost device is reported by the load's next step
    this.#submitted.add(tracked);
    this.#submittedBytes += size;
  }

  /** Waits for the oldest chunks to be done while `size` more bytes would pass `maxSubmittedBytes`. */
  async #roomFor(size: number): Promise<void> {
    while (this.#submitted.size > 0 && this.#submittedBytes + size > this.maxSubmittedBytes) {
      await this.#submitted.values().next().value;
    }
  }

  /**
   * Copies a large chunk through the staging ring; `false` when it is left to `writeBuffer` (small,
   * unaligned, or the ring has no buffer to give: the device was lost, or is out of memory).
   */
  async #stage(bytes: ArrayBuffer, writes: RemoteWrite[], session: Session): Promise<boolean> {
    const stager = this.#stager;
    if (!stager?.fits(writes) || !stager.ready(++session.large > 1)) return false;
    const bufferOf = (id: number) => this.#buffers.get(id);
    const staged = await stager
      .stage(bytes, writes, bufferOf, () => this.#stopped !== null)
      .then(
        (done) => done,
        () => undefined,
      );
    if (staged === undefined) return false;
    if (staged === null) return true; // stopped: nothing more is written
    this.#record(session, staged.error);
    for (const write of staged.missing) session.failure ??= destroyedBefore(write);
    return true;
  }

  /** Counts the outcome of a scope of writes in their session. */
  #record(session: Session, error: Promise<ScopedGpuError | null>): void {
    session.scopes.push(error);
    void error.then(
      (failure) => {
        if (failure) session.failure ??= failure;
      },
      () => {},
    );
  }

  /**
   * Writes a chunk's parts in slices of at most `WRITE_SLICE_BYTES`, as many as fit in the current task
   * under one error scope (a scope a write would cost a round trip each), then yields the thread.
   */
  async #writeAll(bytes: ArrayBuffer, writes: RemoteWrite[], session: Session): Promise<void> {
    const slices = writeSlices(writes);
    for (let next = 0; next < slices.length; ) {
      // A slice after a yield finds the writer stopped: nothing more is written.
      if (this.#stopped !== null) return;
      const { error } = withErrorScope(this.#device, () => {
        do this.#writeSlice(bytes, slices[next++] as WriteSlice, session);
        while (next < slices.length && !this.slicer.due);
      });
      this.#record(session, error);
      await this.slicer.maybeYield();
    }
  }

  /** Writes one slice, unless its buffer is gone (destroyed before, or while, it was written). */
  #writeSlice(bytes: ArrayBuffer, slice: WriteSlice, session: Session): void {
    const { write, at, size } = slice;
    const buffer = this.#buffers.get(write.id);
    if (buffer)
      this.#device.queue.writeBuffer(buffer, write.dstOffset + at, bytes, write.srcOffset + at, size);
    else if (at === 0) session.failure ??= destroyedBefore(write);
  }

  #session(id: number): Session {
    let session = this.#sessions.get(id);
    if (!session) {
      session = newSession();
      this.#sessions.set(id, session);
    }
    return session;
  }

  #drop(id: number): void {
    const buffer = this.#buffers.get(id);
    if (!buffer) return;
    this.#buffers.delete(id);
    this.#tracker.destroy(buffer);
  }

  /**
   * Has the device free what was destroyed, once for the destroys of this task: a table's buffers are
   * destroyed one call each, and one empty submission serves them all.
   */
  #releaseSoon(): void {
    if (this.#releaseScheduled) return;
    this.#releaseScheduled = true;
    void nextTask().then(() => {
      this.#releaseScheduled = false;
      this.#tracker.releaseDestroyed();
    });
  }

  /** Runs calls one after another, in the order they came. */
  #inOrder<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work);
    this.#chain = run.catch(() => {});
    return run;
  }
}
