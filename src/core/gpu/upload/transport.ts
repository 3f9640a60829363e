/** Staging buffers, or `writeBuffer` submissions, in flight at once: the bound both strategies keep. */
export const MAX_IN_FLIGHT = 2;

/**
 * Fills `target` with the source's bytes from `position` (a file read at a position, off this thread);
 * rejects, naming the byte offset, when it cannot or the source ends first.
 */
export type ReadSource = (target: Uint8Array, position: number) => Promise<void>;

/** Writes `byteLength` bytes into `target` starting at `offset`. */
export type Fill = (target: ArrayBuffer, offset: number) => void;

/**
 * How an uploader's bytes reach GPU buffers. Every `write` is ordered after the ones before it on the
 * device queue, so a later write to the same range wins.
 */
export interface UploadTransport {
  /** Largest total of writes between two `begin` calls. */
  readonly maxChunkBytes: number;
  /**
   * Whether `write` calls the device itself (`writeBuffer`), so that the uploader runs it in an error
   * scope. Staged and remote writes only fill memory: their GPU calls come at `flush`, in scopes of
   * their own, and a scope around the filling would catch nothing.
   */
  readonly writesGpu: boolean;
  /** Prepares room for a chunk of `bytes` (≤ `maxChunkBytes`); may wait for the GPU. */
  begin(bytes: number): Promise<void>;
  /** Queues `byteLength` bytes (a multiple of 4) for `dst` at `dstOffset`, produced by `fill`. */
  write(dst: GPUBuffer, dstOffset: number, byteLength: number, fill: Fill): void;
  /** Queues bytes that need no conversion. */
  writeBytes(dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void;
  /**
   * Queues `byteLength` bytes of the source from `position`, read straight into transport memory (a
   * multiple of 4). Only a transport made with a `ReadSource` has it.
   */
  writeFromSource?(dst: GPUBuffer, dstOffset: number, position: number, byteLength: number): void;
  /** Submits everything written so far. */
  flush(): void;
  /** Submits everything and waits until the GPU has done it. */
  finish(): Promise<void>;
  /** Gives back any held resources without submitting (cancellation). */
  release(): void;
  /** Bytes written since the last flush. */
  readonly pendingBytes: number;
  /** Staging buffers (or submissions) submitted or held but not done, now. */
  readonly inFlight: number;
  /**
   * Whether a flush now would leave the next `begin` waiting for the GPU (no free staging buffer or
   * submission left): a flush on a timer can then wait, and more batches share one round trip.
   */
  readonly flushWouldStall: boolean;
  /** Largest `inFlight` seen. */
  readonly maxInFlight: number;
  /** Milliseconds spent waiting for the GPU (a free staging buffer or submitted work). */
  readonly waitMs: number;
  /**
   * Resolves once the writes flushed so far are done on the device, and rejects with the first error
   * they raised. Only a transport whose writes fail out of sight (on another thread) has it; without
   * it, the device queue's `onSubmittedWorkDone` tells when the writes are done.
   */
  landed?(): Promise<void>;
  /**
   * Resolves once nothing the transport started still writes into memory it held (reads from the
   * source): a failed load waits for it before the source is closed.
   */
  settled?(): Promise<void>;
}
