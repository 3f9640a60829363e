// `npm run bench:node -- --ring-reads 1,2,4,8`: the staging ring filled by reading a file straight into
// its mapped ranges, the reads split into pieces that run at once on libuv's threads, against the ring
// filled by a copy on this thread. Shows whether a load that reads GPU-ready bytes from a file into the
// mapped range, off the loader's thread, could pass the one-thread copy.
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferTracker } from '../src/core/gpu/buffer-tracker.js';
import { StagingRing } from '../src/core/gpu/upload/staging-ring.js';
import { PIECE_BYTES, ringLineTable, stagingCeiling } from './ceilings.js';

/** What the ring-reads run needs from bench/node.ts. */
export interface RingReadsBench {
  device: GPUDevice;
  path: string;
  bytes: number;
  pieces: readonly number[];
  reps: number;
  out: string;
}

/** Milliseconds for the ring to move `bytes` of the file at `path`, each slot filled by `pieces` reads. */
async function ringFromFile(device: GPUDevice, path: string, bytes: number, pieces: number) {
  const file = await open(path, 'r');
  const ring = new StagingRing(device, new BufferTracker(device));
  const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  ring.release(await ring.acquire(PIECE_BYTES));
  const t0 = performance.now();
  for (let at = 0; at < bytes; at += PIECE_BYTES) {
    const n = Math.min(PIECE_BYTES, bytes - at);
    const slot = await ring.acquire(n);
    const per = Math.ceil(n / pieces / 4096) * 4096;
    const reads = [];
    for (let off = 0; off < n; off += per) {
      const len = Math.min(per, n - off);
      reads.push(file.read(new Uint8Array(slot.mapped, off, len), 0, len, at + off));
    }
    await Promise.all(reads);
    void ring.submit(slot, [{ dst, dstOffset: at, srcOffset: 0, size: n }]);
  }
  await device.queue.onSubmittedWorkDone();
  const ms = performance.now() - t0;
  ring.destroy();
  dst.destroy();
  await file.close();
  return ms;
}

/** Runs the ring copied on this thread and read from the file in each number of pieces, `reps` times. */
export async function runRingReadsBench(bench: RingReadsBench): Promise<void> {
  const { device, path, bytes } = bench;
  const file = await open(path, 'r');
  const source = new Uint8Array(bytes);
  await file.read(source, 0, bytes, 0); // also warms the page cache for the reads
  await file.close();
  const lines = [
    { name: 'ring, copied on this thread', pieces: 0 },
    ...bench.pieces.map((pieces) => ({ name: `ring, read in ${pieces} pieces`, pieces })),
  ];
  const ms = new Map(lines.map((line) => [line.name, [] as number[]]));
  await stagingCeiling(device, source, bytes); // warm-up, not counted
  for (let rep = 0; rep < bench.reps; rep++) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[(i + rep) % lines.length] as (typeof lines)[number];
      const t = line.pieces
        ? await ringFromFile(device, path, bytes, line.pieces)
        : await stagingCeiling(device, source, bytes);
      ms.get(line.name)?.push(t);
      console.log(`rep ${rep} ${line.name}: ${t.toFixed(0)} ms, ${(bytes / 1e6 / t).toFixed(2)} GB/s`);
    }
  }
  const table = ringLineTable(
    lines.map((line) => line.name),
    ms,
    bytes,
    'of the ring',
  );
  console.table(table);
  await mkdir(bench.out, { recursive: true });
  await writeFile(
    join(bench.out, 'node-ring-reads.json'),
    `${JSON.stringify({ date: new Date().toISOString(), reps: bench.reps, bytes, runs: Object.fromEntries(ms), table }, null, 2)}\n`,
  );
}
