/// <reference lib="webworker" />
// The benchmark's own worker: the ceilings (each stage alone) and the naive path inside a worker.
import { RecordBatchReader } from 'apache-arrow';
import * as Comlink from 'comlink';
import { BufferTracker } from '../src/core/buffer-tracker.js';
import { StagingRing } from '../src/core/staging-ring.js';
import { naiveLoad, openDevice } from './naive.js';

const PIECE = 16 << 20;
let device: GPUDevice | null = null;
let source: Uint8Array | null = null;

async function gpu(): Promise<GPUDevice> {
  device ??= await openDevice();
  return device;
}

function sourceBytes(n: number): Uint8Array {
  if (!source || source.byteLength < n) {
    source = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) source[i] = i & 0xff;
  }
  return source;
}

const api = {
  /** Fetches and reads the body to its end, discarding it. */
  async read(url: string): Promise<number> {
    const t0 = performance.now();
    const reader = ((await fetch(url)).body as ReadableStream<Uint8Array>).getReader();
    for (;;) if ((await reader.read()).done) break;
    return performance.now() - t0;
  },

  /** Decodes the whole file, already in memory, batch by batch. */
  async decode(url: string): Promise<number> {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const t0 = performance.now();
    let rows = 0;
    for (const batch of RecordBatchReader.from(bytes)) rows += batch.numRows;
    const ms = performance.now() - t0;
    if (rows === 0) throw new Error('decoded no rows');
    return ms;
  },

  /** `writeBuffer` of `bytes` in 16 MiB pieces, at most two pieces in flight. */
  async writeBuffer(bytes: number): Promise<number> {
    const dev = await gpu();
    const src = sourceBytes(bytes);
    const dst = dev.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const t0 = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let at = 0; at < bytes; at += PIECE) {
      const n = Math.min(PIECE, bytes - at);
      dev.queue.writeBuffer(dst, at, src.buffer, src.byteOffset + at, n);
      inFlight.push(dev.queue.onSubmittedWorkDone());
      if (inFlight.length >= 2) await inFlight.shift();
    }
    await dev.queue.onSubmittedWorkDone();
    const ms = performance.now() - t0;
    dst.destroy();
    return ms;
  },

  /** The library's two-buffer staging ring moving `bytes`, filled by a plain copy, no decode. */
  async staging(bytes: number): Promise<number> {
    const dev = await gpu();
    const src = sourceBytes(bytes);
    const tracker = new BufferTracker(dev);
    const ring = new StagingRing(dev, tracker);
    const dst = dev.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    // Warm the ring (its two buffers) so that allocation is not timed.
    ring.release(await ring.acquire(PIECE));
    const t0 = performance.now();
    for (let at = 0; at < bytes; at += PIECE) {
      const n = Math.min(PIECE, bytes - at);
      const slot = await ring.acquire(n);
      new Uint8Array(slot.mapped, 0, n).set(src.subarray(at, at + n));
      void ring.submit(slot, [{ dst, dstOffset: at, srcOffset: 0, size: n }]);
    }
    await dev.queue.onSubmittedWorkDone();
    const ms = performance.now() - t0;
    ring.destroy();
    dst.destroy();
    return ms;
  },

  /** The naive path, inside a worker. */
  async naive(url: string): Promise<{ msTotal: number; msToFirstBatch: number }> {
    const { msTotal, msToFirstBatch, buffers } = await naiveLoad(await gpu(), url, 'apache-arrow');
    for (const b of buffers) b.destroy();
    return { msTotal, msToFirstBatch };
  },
};

/** The worker's API. */
export type BenchWorkerApi = typeof api;

Comlink.expose(api);
