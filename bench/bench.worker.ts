/// <reference lib="webworker" />
// The benchmark's own worker: the ceilings (each stage alone) and the naive path inside a worker.
import { RecordBatchReader } from 'apache-arrow';
import * as Comlink from 'comlink';
import { sourceBytes, stagingCeiling, writeBufferCeiling } from './ceilings.js';
import { naiveLoad, openDevice, releaseBuffers } from './naive.js';

let device: GPUDevice | null = null;
let bytes: Uint8Array | null = null;

async function gpu(): Promise<GPUDevice> {
  device ??= await openDevice();
  return device;
}

function source(n: number): Uint8Array {
  if (!bytes || bytes.byteLength < n) bytes = sourceBytes(n);
  return bytes;
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
    return writeBufferCeiling(await gpu(), source(bytes), bytes);
  },

  /** The library's two-buffer staging ring moving `bytes`, filled by a plain copy, no decode. */
  async staging(bytes: number): Promise<number> {
    return stagingCeiling(await gpu(), source(bytes), bytes);
  },

  /** The naive path, inside a worker. */
  async naive(url: string): Promise<{ msTotal: number; msToFirstBatch: number }> {
    const device = await gpu();
    const { msTotal, msToFirstBatch, buffers } = await naiveLoad(device, url, 'apache-arrow');
    releaseBuffers(device, buffers);
    return { msTotal, msToFirstBatch };
  },
};

/** The worker's API. */
export type BenchWorkerApi = typeof api;

Comlink.expose(api);
