import { type ScopedGpuError, withErrorScope } from '../error-scope.js';
import {
  MAX_STAGING_BYTES,
  type StagedCopy,
  type StagingRing,
  type StagingSlot,
} from '../upload/staging-ring.js';
import type { RemoteWrite } from './device-channel.js';
import type { TaskSlicer } from './task-slicer.js';

/** Chunks of at least this many bytes go through the staging ring; smaller ones through `writeBuffer`. */
export const MIN_STAGED_CHUNK_BYTES = 1 << 20;

/**
 * Bytes of buffers made for loads past which the staging ring makes its buffer at once (see `expect`):
 * two full chunks of the worker's (`REMOTE_CHUNK_BYTES`), so a small file never makes one.
 */
export const LARGE_LOAD_BYTES = 16 << 20;

/** Bytes copied into a staging buffer between looks at the task's length. */
const COPY_SLICE_BYTES = 1 << 20;

/** A chunk staged and submitted: the error scope of its copies, and the parts whose buffer was gone. */
export interface StagedChunk {
  error: Promise<ScopedGpuError | null>;
  missing: RemoteWrite[];
}

/** Where a chunk's parts end in its bytes. */
function endOf(writes: readonly RemoteWrite[]): number {
  let end = 0;
  for (const w of writes) end = Math.max(end, w.srcOffset + w.byteLength);
  return end;
}

/** `copyBufferToBuffer` takes offsets and sizes in whole words only. */
function aligned(w: RemoteWrite): boolean {
  return (w.srcOffset | w.dstOffset | w.byteLength) % 4 === 0;
}

/**
 * Writes posted chunks into the caller's device through its staging ring: the caller's thread copies a
 * chunk into a mapped `MAP_WRITE` buffer and the GPU copies its parts into the column buffers. A
 * `writeBuffer` passes its bytes to the GPU through the browser's command transfer memory, several
 * times slower than a mapped buffer for large writes (Chromium on an H100 host: about 1 GB/s against
 * 4 GB/s), so large chunks are staged. At most the ring's two buffers are in flight.
 */
export class ChunkStager {
  /** `minBytes`: the smallest chunk staged. */
  constructor(
    readonly ring: StagingRing,
    readonly device: GPUDevice,
    readonly slicer: TaskSlicer,
    readonly minBytes = MIN_STAGED_CHUNK_BYTES,
  ) {}

  /** Whether a chunk of these parts can be staged: large enough, within one staging buffer, word-aligned. */
  fits(writes: readonly RemoteWrite[]): boolean {
    const end = endOf(writes);
    return end >= this.minBytes && end <= MAX_STAGING_BYTES && writes.every(aligned);
  }

  /**
   * Whether a chunk that fits is staged: when the ring has a buffer. On a cold ring it goes by
   * `writeBuffer`, and a load's second such chunk (`again`) has the ring make a buffer meanwhile, for
   * the chunks after it. A load of one chunk (a small file) leaves the ring alone: making a mapped buffer
   * of 16 MiB, even in the background, delayed its end by more than the load took (28 ms against 13 by
   * `writeBuffer` alone, Chromium on an H100 host).
   */
  ready(again: boolean): boolean {
    if (this.ring.warm) return true;
    if (again) this.ring.prepare();
    return false;
  }

  /**
   * Has a cold ring make its buffer now, in the background: loads just made buffers of `madeBytes` in
   * all, and once that passes `LARGE_LOAD_BYTES` their chunks are many. The buffer is then ready by the
   * first chunk instead of the third (the first two went by `writeBuffer`: 16 MiB at about a quarter of
   * the staging speed, Chromium on an H100 host). Whether it asked for one.
   */
  expect(madeBytes: number): boolean {
    if (madeBytes < LARGE_LOAD_BYTES || this.ring.warm) return false;
    this.ring.prepare();
    return true;
  }

  /**
   * Copies `bytes` into a staging buffer (waiting for one while the ring's are in flight), in slices that
   * keep each task short, and submits the copies of its parts into the buffers `bufferOf` finds. Resolves
   * to `null`, having submitted nothing, when `stopped()` turned true between slices; rejects when the
   * ring has no buffer to give (the chunk is then the caller's to write otherwise).
   */
  async stage(
    bytes: ArrayBuffer,
    writes: readonly RemoteWrite[],
    bufferOf: (id: number) => GPUBuffer | undefined,
    stopped: () => boolean,
  ): Promise<StagedChunk | null> {
    const end = endOf(writes);
    const slot = await this.ring.acquire(end);
    let filled = false;
    try {
      filled = await this.#fill(slot, bytes, end, stopped);
    } finally {
      if (!filled) this.ring.release(slot);
    }
    if (!filled) return null;
    // The ring failed while the chunk was copied (its other buffer failed to map again): nothing could
    // be submitted from it, so the chunk is the caller's to write otherwise.
    if (this.ring.failed) {
      this.ring.release(slot);
      throw new Error('the staging ring failed');
    }
    const copies: StagedCopy[] = [];
    const missing: RemoteWrite[] = [];
    for (const w of writes) {
      const dst = bufferOf(w.id);
      if (dst) copies.push({ dst, dstOffset: w.dstOffset, srcOffset: w.srcOffset, size: w.byteLength });
      else missing.push(w);
    }
    const { result: remapped, error } = withErrorScope(this.device, () => this.ring.submit(slot, copies));
    remapped.catch(() => {}); // a buffer that fails to map again fails the ring: the next `acquire` says so
    return { error, missing };
  }

  /** Copies the chunk's first `end` bytes into the slot; `false` once `stopped()` turned true. */
  async #fill(slot: StagingSlot, bytes: ArrayBuffer, end: number, stopped: () => boolean): Promise<boolean> {
    const from = new Uint8Array(bytes, 0, end);
    const to = new Uint8Array(slot.mapped, 0, end);
    for (let at = 0; at < end; at += COPY_SLICE_BYTES) {
      await this.slicer.maybeYield();
      if (stopped()) return false;
      to.set(from.subarray(at, Math.min(end, at + COPY_SLICE_BYTES)), at);
    }
    return true;
  }
}
