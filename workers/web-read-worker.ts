/// <reference lib="webworker" />
import type {
  FromReader,
  ReadWorkerPort,
  SpawnReadWorker,
  ToReader,
} from '../src/core/source/read-worker/protocol.js';
import { ReadWorkerClient, type ReadWorkerSource } from '../src/core/source/read-worker/read-client.js';
import { tailReader } from './fetch-source.js';
import { webWorkerPort } from './web-worker-port.js';

/** The read worker as a Web Worker started from the loader worker (the library's bundled read.worker). */
export const spawnWebReadWorker: SpawnReadWorker = () =>
  webReadWorker(new Worker(new URL('./read.worker.ts', import.meta.url), { type: 'module' }));

/** A started Web Worker that runs `serveReads`, as the read client's port. */
export function webReadWorker(worker: Worker): ReadWorkerPort {
  return webWorkerPort<ToReader, FromReader>(worker);
}

/**
 * Whether loads read URLs on the read worker by default: where a core is left for it beside the page's
 * and the loader's threads.
 */
export function defaultReadWorker(cores: number | undefined): boolean {
  return (cores ?? 1) >= 3;
}

/**
 * A loader's read worker, started by `spawn`: URLs are read there, a footer still here (by a `Range`
 * request of its own); `byDefault`: whether loads use it unless told.
 */
export function webReadWorkerSource(spawn: SpawnReadWorker, byDefault: boolean): ReadWorkerSource {
  const reads = new ReadWorkerClient(spawn);
  return {
    open: async (url, signal, options) => {
      const source = await reads.open(url, signal, options);
      return { ...source, readTail: tailReader(url, signal, options, source.bytesTotal) };
    },
    start: () => reads.start(),
    byDefault,
  };
}
