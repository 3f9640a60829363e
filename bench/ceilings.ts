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

/**
 * Milliseconds for the library's two-buffer staging ring to move `bytes` of `source`, filled by a plain
 * copy. Its destination is made before the clock starts, unless `timedDestinations` is set: then that
 * many buffers (as a load makes one per column) are made within the time, and the pieces split across them.
 */
export async function stagingCeiling(
  device: GPUDevice,
  source: Uint8Array,
  bytes: number,
  timedDestinations = 0,
): Promise<number> {
  const tracker = new BufferTracker(device);
  const ring = new StagingRing(device, tracker);
  const count = Math.max(1, timedDestinations);
  const per = Math.ceil(bytes / count / 4) * 4;
  const make = () =>
    Array.from({ length: count }, () =>
      device.createBuffer({ size: per, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }),
    );
  let dsts = timedDestinations ? [] : make();
  // Warm the ring so that creating its buffers is not timed.
  const a = await ring.acquire(PIECE_BYTES);
  const b = await ring.acquire(PIECE_BYTES);
  ring.release(a);
  ring.release(b);
  const t0 = performance.now();
  if (timedDestinations) dsts = make();
  for (let at = 0; at < bytes; at += PIECE_BYTES) {
    const n = Math.min(PIECE_BYTES, bytes - at);
    const slot = await ring.acquire(n);
    new Uint8Array(slot.mapped, 0, n).set(source.subarray(at, at + n));
    void ring.submit(slot, copiesAcross(dsts, per, at, n));
  }
  await device.queue.onSubmittedWorkDone();
  const ms = performance.now() - t0;
  ring.destroy();
  for (const dst of dsts) dst.destroy();
  return ms;
}

/** The copies of `n` staged bytes destined for bytes `at…` of `dsts` laid end to end, `per` bytes each. */
function copiesAcross(dsts: readonly GPUBuffer[], per: number, at: number, n: number) {
  const copies = [];
  for (let done = 0; done < n; ) {
    const index = Math.floor((at + done) / per);
    const dstOffset = at + done - index * per;
    const size = Math.min(n - done, per - dstOffset);
    copies.push({ dst: dsts[index] as GPUBuffer, dstOffset, srcOffset: done, size });
    done += size;
  }
  return copies;
}

/** A source buffer of `bytes` with some non-zero content. */
export function sourceBytes(bytes: number): Uint8Array {
  const source = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) source[i] = i & 0xff;
  return source;
}

/** The median of `xs` (the upper one of an even count). */
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

/**
 * A table of ring lines by name: median ms, GB/s of `bytes`, and the first line's median over each
 * line's, as `share` (the lines' times in `ms`).
 */
export function ringLineTable(
  names: readonly string[],
  ms: Map<string, number[]>,
  bytes: number,
  share: string,
) {
  const first = median(ms.get(names[0] as string) as number[]);
  return names.map((name) => {
    const m = median(ms.get(name) as number[]);
    return {
      line: name,
      'median ms': Math.round(m),
      'GB/s': Number((bytes / 1e6 / m).toFixed(2)),
      [share]: Number((first / m).toFixed(2)),
    };
  });
}
