import { BufferTracker } from '../src/core/gpu/buffer-tracker.js';
import { StagingRing } from '../src/core/gpu/upload/staging-ring.js';

/** Size of one upload piece in the ceilings: large enough that per-call costs vanish. */
export const PIECE_BYTES = 16 << 20;

/** Milliseconds to `writeBuffer` `bytes` of `source` in pieces, at most two pieces in flight. */
export async function writeBufferCeiling(
  device: GPUDevice,
  source: Uint8Array,
  bytes: number,
): Promise<number> {
  const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let at = 0; at < bytes; at += PIECE_BYTES) {
    const n = Math.min(PIECE_BYTES, bytes - at);
    device.queue.writeBuffer(dst, at, source.buffer as ArrayBuffer, source.byteOffset + at, n);
    inFlight.push(device.queue.onSubmittedWorkDone());
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await device.queue.onSubmittedWorkDone();
  const ms = performance.now() - t0;
  dst.destroy();
  return ms;
}

/** Milliseconds for the library's two-buffer staging ring to move `bytes` of `source`, filled by a plain copy. */
export async function stagingCeiling(device: GPUDevice, source: Uint8Array, bytes: number): Promise<number> {
  const tracker = new BufferTracker(device);
  const ring = new StagingRing(device, tracker);
  const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  // Warm the ring so that creating its buffers is not timed.
  const a = await ring.acquire(PIECE_BYTES);
  const b = await ring.acquire(PIECE_BYTES);
  ring.release(a);
  ring.release(b);
  const t0 = performance.now();
  for (let at = 0; at < bytes; at += PIECE_BYTES) {
    const n = Math.min(PIECE_BYTES, bytes - at);
    const slot = await ring.acquire(n);
    new Uint8Array(slot.mapped, 0, n).set(source.subarray(at, at + n));
    void ring.submit(slot, [{ dst, dstOffset: at, srcOffset: 0, size: n }]);
  }
  await device.queue.onSubmittedWorkDone();
  const ms = performance.now() - t0;
  ring.destroy();
  dst.destroy();
  return ms;
}

/** A source buffer of `bytes` with some non-zero content. */
export function sourceBytes(bytes: number): Uint8Array {
  const source = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) source[i] = i & 0xff;
  return source;
}
