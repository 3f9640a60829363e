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

export interface Harness {
  mode: string;
  lib: LibModule;
  digest(view: ArrayBufferView): Promise<string>;
  readAll(table: Lib.GpuTable): Promise<ColumnDigest[]>;
  settle<T>(promise: Promise<T>): Promise<Settled<T>>;
  watchLongTasks(): () => { count: number; longestMs: number };
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

const mode = new URLSearchParams(location.search).get('mode') ?? 'source';
window.harnessReady = (async () => {
  const lib: LibModule =
    mode === 'dist'
      ? await import(/* @vite-ignore */ `${location.origin}/dist/index.js`)
      : await import('../../src/index.js');
  window.harness = { mode, lib, digest, readAll, settle, watchLongTasks };
  (document.getElementById('status') as HTMLElement).textContent = `ready (${mode})`;
})();
