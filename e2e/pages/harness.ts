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

export interface Harness {
  mode: string;
  lib: LibModule;
  digest(view: ArrayBufferView): Promise<string>;
  readAll(table: Lib.GpuTable): Promise<ColumnDigest[]>;
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
  window.harness = { mode, lib, digest, readAll, watchLongTasks };
  (document.getElementById('status') as HTMLElement).textContent = `ready (${mode})`;
})();
