/// <reference lib="webworker" />
import type {
  FromReader,
  ReadWorkerPort,
  SpawnReadWorker,
  ToReader,
} from '../src/core/source/read-worker/protocol.js';
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
