import type { ScopedGpuError } from '../error-scope.js';

/** One buffer to make on the caller's device, named by the id the worker gave it. */
export interface RemoteBufferSpec {
  id: number;
  label: string;
  size: number;
  usage: GPUBufferUsageFlags;
}

/** Bytes `[srcOffset, srcOffset + byteLength)` of a posted chunk go to buffer `id` at `dstOffset`. */
export interface RemoteWrite {
  id: number;
  dstOffset: number;
  srcOffset: number;
  byteLength: number;
}

/** A posted chunk back from the caller's thread once written, with the first GPU error seen so far. */
export interface WrittenChunk {
  bytes: ArrayBuffer;
  error: ScopedGpuError | null;
}

/**
 * How a load in the worker reaches a device that lives on another thread (the caller's). Calls are
 * applied in the order they were made: a write after a `create` finds its buffer, a `destroy` comes
 * after every write before it.
 */
export interface DeviceChannel {
  /** Makes a buffer; resolves to the error the device raised making it, or `null`. */
  create(spec: RemoteBufferSpec): Promise<ScopedGpuError | null>;
  /**
   * Writes slices of `bytes` (transferred) into buffers, and hands `bytes` back for reuse. Writes of a
   * `session` (one load's) answer at once, with the first error of that session known so far; others
   * answer once their own outcome is known, with it.
   */
  write(bytes: ArrayBuffer, writes: RemoteWrite[], session?: number): Promise<WrittenChunk>;
  /** Destroys buffers (ids unknown or already destroyed are skipped). */
  destroy(ids: number[]): Promise<void>;
  /**
   * Resolves once the device has done everything asked so far; given a `session`, with the first error
   * its writes raised (and the session is forgotten), else with `null`.
   */
  done(session?: number): Promise<ScopedGpuError | null>;
  /**
   * Resolves once the device has done everything asked so far, with the first error that `session`'s
   * writes raised so far, else `null`; the session stays open (a load checks its writes as it goes).
   */
  settled(session: number): Promise<ScopedGpuError | null>;
}

/** What the worker needs to know of the caller's device to size and name its buffers. */
export interface RemoteDeviceInfo {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  vendor: string;
  architecture: string;
  description: string;
}
