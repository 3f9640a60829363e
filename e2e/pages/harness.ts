// Test harness: loads the library from source (?mode=source) or from the built dist/ (?mode=dist) and
// exposes small helpers to the Playwright specs through `window.harness`.
import type * as Lib from '../../src/index.js';

type LibModule = typeof Lib;

export interface ColumnDigest {
  name: string;
  gpuType: string;
  length: number;
  sha256: string;
  head: number[];
  validitySha256: string | null;
}

/** How a promise settled, as plain data a spec can inspect. */
export interface Settled<T> {
  ok: boolean;
  value: T | null;
  /** The rejection's `code` (an `ArrowGpuError`'s), or `null`. */
  code: string | null;
  name: string | null;
  message: string | null;
  details: Record<string, unknown> | null;
  isArrowGpuError: boolean;
  /** Milliseconds from the call to the settlement. */
  ms: number;
}

/** A loader on the test worker, with the hooks that worker answers to. */
export interface TestLoader {
  loader: Lib.Loader;
  /** Destroys the worker's device, as a driver reset would; resolves once it is lost. */
  loseDevice(): Promise<void>;
  /** Throws an uncaught error in the worker. */
  crash(): Promise<void>;
  /** Ends the worker with no error event, as a kill for memory does. */
  exit(): void;
  /** Makes the newest decode worker throw an uncaught error. */
  crashDecodeWorker(): Promise<void>;
  crashReadWorker(): Promise<void>;
}

/** What a test stream did: bytes handed out, and whether (and why) its reader cancelled it. */
export interface StreamState {
  delivered: number;
  cancelled: boolean;
  reason: string | null;
}

/** How `testStream` hands its bytes out. */
export interface TestStreamOptions {
  /** Chunk sizes, cycled. */
  sizes: number[];
  /** Errors the stream (with `Error('disk gone')`) once this many bytes went out. */
  errorAt?: number;
  /** Hands out nothing more after this many bytes, and never closes (a stalled producer). */
  hangAt?: number;
}

export interface Harness {
  mode: string;
  lib: LibModule;
  settledMemory(loader: Lib.Loader, before: Lib.MemoryInfo): Promise<Lib.MemoryInfo>;
  testStream(
    bytes: Uint8Array,
    options: TestStreamOptions,
  ): { stream: ReadableStream<Uint8Array>; state: StreamState };
  testLoader(options?: Lib.LoaderOptions): Promise<TestLoader>;
  digest(view: ArrayBufferView): Promise<string>;
  readAll(table: Lib.GpuTable): Promise<ColumnDigest[]>;
  settle<T>(promise: Promise<T>): Promise<Settled<T>>;
  watchLongTasks(): () => { count: number; longestMs: number };
  /** A `blob:` URL of IPC bytes given in base64, for tables a spec builds (the worker fetches it). */
  tableUrl(base64: string): string;
  /**
   * A `<canvas id=…>` of `width` × `height` CSS pixels (and as many device pixels times `pixelRatio`)
   * in the page, handed over with `transferControlToOffscreen()`.
   */
  offscreen(id: string, width: number, height: number, pixelRatio?: number): OffscreenCanvas;
}

declare global {
  interface Window {
    harness: Harness;
    harnessReady: Promise<void>;
  }
}

async function digest(view: ArrayBufferView): Promise<string> {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const hash = await crypto.subtle.digest('SHA-256', bytes.slice());
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function readAll(table: Lib.GpuTable): Promise<ColumnDigest[]> {
  const out: ColumnDigest[] = [];
  for (const column of table.columns) {
    const values = await table.readColumn(column.name);
    const validity = await table.readValidity(column.name);
    out.push({
      name: column.name,
      gpuType: column.gpuType,
      length: values.length,
      sha256: await digest(values),
      head: Array.from(values.subarray(0, 4)),
      validitySha256: validity ? await digest(validity) : null,
    });
  }
  return out;
}

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  const started = performance.now();
  try {
    const value = await promise;
    const ms = performance.now() - started;
    return {
      ok: true,
      value,
      code: null,
      name: null,
      message: null,
      details: null,
      isArrowGpuError: false,
      ms,
    };
  } catch (error) {
    const ms = performance.now() - started;
    const e = error as Error & { code?: string; details?: Record<string, unknown> };
    return {
      ok: false,
      value: null,
      code: e?.code ?? null,
      name: e?.name ?? null,
      message: e?.message ?? String(error),
      details: e?.details ?? null,
      isArrowGpuError: error instanceof window.harness.lib.ArrowGpuError,
      ms,
    };
  }
}

function watchLongTasks(): () => { count: number; longestMs: number } {
  const durations: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) durations.push(entry.duration);
  });
  observer.observe({ type: 'longtask' });
  return () => {
    for (const entry of observer.takeRecords()) durations.push(entry.duration);
    observer.disconnect();
    return { count: durations.length, longestMs: Math.max(0, ...durations) };
  };
}

function tableUrl(base64: string): string {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: 'application/vnd.apache.arrow.stream' }));
}

function offscreen(id: string, width: number, height: number, pixelRatio = 1): OffscreenCanvas {
  document.getElementById(id)?.remove();
  const canvas = document.createElement('canvas');
  canvas.id = id;
  canvas.width = Math.round(width * pixelRatio);
  canvas.height = Math.round(height * pixelRatio);
  canvas.style.cssText = `display: block; width: ${width}px; height: ${height}px`;
  document.body.append(canvas);
  return canvas.transferControlToOffscreen();
}

/**
 * The loader's memory once it is back to `before`, or after 2 s: a staging buffer still mapping when a
 * load was aborted returns to the shared ring a moment later, and trimming then releases it.
 */
async function settledMemory(loader: Lib.Loader, before: Lib.MemoryInfo): Promise<Lib.MemoryInfo> {
  for (let i = 0; ; i++) {
    await loader.trim();
    const memory = await loader.memory();
    const back = memory.liveBuffers === before.liveBuffers && memory.liveBytes === before.liveBytes;
    if (back || i === 20) return memory;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A ReadableStream of `bytes` in chunks of odd sizes, one pull at a time, that notes its cancellation. */
function testStream(
  bytes: Uint8Array,
  { sizes, errorAt = Infinity, hangAt = Infinity }: TestStreamOptions,
): { stream: ReadableStream<Uint8Array>; state: StreamState } {
  const state: StreamState = { delivered: 0, cancelled: false, reason: null };
  let index = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const at = state.delivered;
        if (at >= errorAt) return controller.error(new Error('disk gone'));
        if (at >= hangAt) return new Promise<void>(() => {});
        if (at >= bytes.byteLength) return controller.close();
        const size = sizes[index++ % sizes.length] as number;
        const end = Math.min(at + size, bytes.byteLength, errorAt, hangAt);
        controller.enqueue(bytes.slice(at, end));
        state.delivered = end;
      },
      cancel(reason) {
        state.cancelled = true;
        state.reason = String(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

let testWorkers = 0;

/** A loader whose worker is e2e/pages/test.worker.ts (from source, whatever the mode), and its hooks. */
async function testLoader(options: Lib.LoaderOptions = {}): Promise<TestLoader> {
  const id = `${++testWorkers}-${Math.random().toString(36).slice(2)}`;
  const workerUrl = new URL(`/e2e/pages/test.worker.ts?id=${id}`, location.href);
  const loader = await window.harness.lib.createLoader({ ...options, workerUrl });
  const channel = new BroadcastChannel(`arrow-webgpu-test-hooks-${id}`);
  const ask = (hook: string) =>
    new Promise<void>((resolve) => {
      const onMessage = ({ data }: MessageEvent<{ done: string }>) => {
        if (data.done !== hook) return;
        channel.removeEventListener('message', onMessage);
        resolve();
      };
      channel.addEventListener('message', onMessage);
      channel.postMessage({ hook });
    });
  return {
    loader,
    loseDevice: () => ask('loseDevice'),
    crash: () => ask('crash'),
    crashDecodeWorker: () => ask('crashDecodeWorker'),
    crashReadWorker: () => ask('crashReadWorker'),
    exit: () => channel.postMessage({ hook: 'exit' }),
  };
}

const mode = new URLSearchParams(location.search).get('mode') ?? 'source';
window.harnessReady = (async () => {
  const lib: LibModule =
    mode === 'dist'
      ? await import(/* @vite-ignore */ `${location.origin}/dist/index.js`)
      : await import('../../src/index.js');
  window.harness = {
    mode,
    lib,
    testLoader,
    testStream,
    settledMemory,
    digest,
    readAll,
    settle,
    watchLongTasks,
    tableUrl,
    offscreen,
  };
  (document.getElementById('status') as HTMLElement).textContent = `ready (${mode})`;
})();
