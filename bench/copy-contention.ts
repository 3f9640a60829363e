// `npm run bench:node -- --copy-contention`: the staging ring's copy on this thread while other threads
// stream memory, as decode workers do during a load. A load's copy into mapped staging memory runs beside
// its decode workers; this shows how much of the ring's speed that costs, apart from any decoding.
// Each line is a ring (or a plain copy into ordinary memory) of the same bytes, with 0…n threads that
// copy 64 MiB buffers in a loop meanwhile; lines change their order each repetition (`runOrder`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PIECE_BYTES, ringLineTable, stagingCeiling } from './ceilings.js';
import { orderFor } from './run-order.js';

/** What the contention run needs from bench/node.ts. */
export interface CopyContentionBench {
  device: GPUDevice;
  source: Uint8Array;
  threads: readonly number[];
  reps: number;
  out: string;
}

/** A thread that copies memory while `running[0]` is 1, then reports the bytes it copied. */
const STREAMER = `
const { parentPort, workerData } = require('node:worker_threads');
const running = new Int32Array(workerData);
const a = new Uint8Array(64 << 20), b = new Uint8Array(64 << 20);
parentPort.on('message', () => {
  let copies = 0;
  while (Atomics.load(running, 0) === 1) { a.set(b); copies++; }
  parentPort.postMessage(copies * (64 << 20));
});`;

/** Plain copies of `source` into one piece-sized buffer of ordinary memory: the copy without a GPU. */
function plainCopy(source: Uint8Array): number {
  const target = new Uint8Array(PIECE_BYTES);
  const t0 = performance.now();
  for (let at = 0; at < source.byteLength; at += PIECE_BYTES)
    target.set(source.subarray(at, Math.min(source.byteLength, at + PIECE_BYTES)));
  return performance.now() - t0;
}

/** Threads that stream memory on demand (`running[0]` 1 while they should). */
interface Streamers {
  workers: Worker[];
  running: Int32Array;
}

function startStreamers(count: number): Streamers {
  const shared = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: count },
    () => new Worker(STREAMER, { eval: true, workerData: shared }),
  );
  return { workers, running: new Int32Array(shared) };
}

/** Runs `work` while `count` streamers copy memory: they start 20 ms before it and stop once it is done. */
async function beside<T>(streamers: Streamers, count: number, work: () => Promise<T>): Promise<T> {
  Atomics.store(streamers.running, 0, 1);
  const done = streamers.workers.slice(0, count).map(
    (worker) =>
      new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage('go');
      }),
  );
  if (count > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  try {
    return await work();
  } finally {
    Atomics.store(streamers.running, 0, 0);
    await Promise.all(done);
  }
}

/** Runs the ring and the plain copy beside each number of memory-streaming threads, `reps` times. */
export async function runCopyContentionBench(bench: CopyContentionBench): Promise<void> {
  const { device, source } = bench;
  const streamers = startStreamers(Math.max(...bench.threads));
  const lines = [
    ...bench.threads.map((n) => ({ name: `ring, ${n} threads beside`, n, gpu: true })),
    ...[0, Math.max(...bench.threads)].map((n) => ({
      name: `plain copy, ${n} threads beside`,
      n,
      gpu: false,
    })),
  ];
  const ms = new Map(lines.map((line) => [line.name, [] as number[]]));
  await stagingCeiling(device, source, source.byteLength); // warm-up, not counted
  for (let rep = 0; rep < bench.reps; rep++) {
    for (const line of orderFor(lines, rep)) {
      const run = line.gpu
        ? () => stagingCeiling(device, source, source.byteLength)
        : async () => plainCopy(source);
      const t = await beside(streamers, line.n, run);
      ms.get(line.name)?.push(t);
      console.log(
        `rep ${rep} ${line.name}: ${t.toFixed(0)} ms, ${(source.byteLength / 1e6 / t).toFixed(2)} GB/s`,
      );
    }
  }
  for (const worker of streamers.workers) await worker.terminate();
  const names = lines.map((line) => line.name);
  const table = ringLineTable(names, ms, source.byteLength, 'of the ring alone');
  console.table(table);
  await mkdir(bench.out, { recursive: true });
  const runs = Object.fromEntries(ms);
  await writeFile(
    join(bench.out, 'node-copy-contention.json'),
    `${JSON.stringify({ date: new Date().toISOString(), reps: bench.reps, bytes: source.byteLength, runs, table }, null, 2)}\n`,
  );
}
