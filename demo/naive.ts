import { tableFromIPC } from 'apache-arrow';
import { gpuArray } from '../bench/naive.js';
import type { Source } from './source.js';

/** What the naive load did: rows and bytes on the page's own device, and when. */
export interface NaiveResult {
  rows: number;
  batches: number;
  bytes: number;
  msTotal: number;
}

let device: Promise<GPUDevice> | null = null;

/** The page's own GPU device, asked once. */
function pageDevice(): Promise<GPUDevice> {
  device ??= (async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter on the main thread');
    return adapter.requestDevice({
      requiredLimits: {
        maxBufferSize: adapter.limits.maxBufferSize,
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      },
    });
  })();
  return device;
}

/** The whole source's bytes, read on the main thread, reporting bytes as they arrive. */
async function readAll(
  source: Source,
  signal: AbortSignal,
  onBytes: (n: number, total: number | null) => void,
) {
  const response = source.kind === 'url' ? await fetch(source.url, { signal }) : new Response(source.file);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${source.kind === 'url' ? source.url : ''}`);
  const total =
    Number(response.headers.get('Content-Length')) || (source.kind === 'file' ? source.file.size : null);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    signal.throwIfAborted();
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.byteLength;
    onBytes(received, total);
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * What dashboards do today, on the main thread: the whole file, then `tableFromIPC`, then one
 * `writeBuffer` a column on the page's device (the benchmark's naive path, bench/naive.ts). Nothing can
 * be shown before the last byte; decoding and uploading block the page. The buffers are freed after.
 */
export async function naiveLoad(
  source: Source,
  signal: AbortSignal,
  onBytes: (n: number, total: number | null) => void,
): Promise<NaiveResult> {
  const t0 = performance.now();
  const gpu = await pageDevice();
  const bytes = await readAll(source, signal, onBytes);
  signal.throwIfAborted();
  const table = tableFromIPC(bytes);
  const buffers: GPUBuffer[] = [];
  for (const field of table.schema.fields) {
    const values = gpuArray(table.getChild(field.name) as unknown as Parameters<typeof gpuArray>[0]);
    const buffer = gpu.createBuffer({
      size: Math.max(4, values.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    gpu.queue.writeBuffer(buffer, 0, values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
    buffers.push(buffer);
  }
  await gpu.queue.onSubmittedWorkDone();
  const msTotal = performance.now() - t0;
  for (const buffer of buffers) buffer.destroy();
  return { rows: table.numRows, batches: table.batches.length, bytes: bytes.byteLength, msTotal };
}
