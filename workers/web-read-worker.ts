/// <reference lib="webworker" />
import type { ReadWorkerPort, SpawnReadWorker } from '../src/core/source/read-worker/protocol.js';

/** The read worker as a Web Worker started from the loader worker (the library's bundled read.worker). */
export const spawnWebReadWorker: SpawnReadWorker = () =>
  webReadWorker(new Worker(new URL('./read.worker.ts', import.meta.url), { type: 'module' }));

/** A started Web Worker that runs `serveReads`, as the read client's port. */
export function webReadWorker(worker: Worker): ReadWorkerPort {
  const port: ReadWorkerPort = {
    post: (message) => worker.postMessage(message),
    onMessage: null,
    onFailure: null,
    terminate: () => worker.terminate(),
  };
  worker.onmessage = (event) => port.onMessage?.(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    worker.terminate();
    port.onFailure?.(event.message || 'it raised an uncaught error');
  };
  worker.onmessageerror = () => port.onFailure?.('a message from it could not be read');
  return port;
}

/**
 * Whether loads read URLs on the read worker by default: where a core is left for it beside the page's
 * and the loader's threads.
 */
export function defaultReadWorker(cores: number | undefined): boolean {
  return (cores ?? 1) >= 3;
}
