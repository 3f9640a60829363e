/// <reference lib="webworker" />
import type { DecodeWorkerPort, SpawnDecodeWorker } from '../src/core/pipeline/pool/protocol.js';

/** Decode workers as Web Workers started from the loader worker (the library's bundled decode.worker). */
export const spawnWebDecodeWorker: SpawnDecodeWorker = () =>
  webDecodeWorker(new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module' }));

/** A started Web Worker that runs `serveDecoder`, as the pool's port. */
export function webDecodeWorker(worker: Worker): DecodeWorkerPort {
  const port: DecodeWorkerPort = {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: null,
    onFailure: null,
    terminate: () => worker.terminate(),
  };
  worker.onmessage = (event) => port.onMessage?.(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    worker.terminate(); // a worker that threw outside a session's work is not trusted again
    port.onFailure?.(event.message || 'it raised an uncaught error');
  };
  worker.onmessageerror = () => port.onFailure?.('a message from it could not be read');
  return port;
}

/** The default number of decode workers: one per core beyond the loader's, at most 4. */
export function defaultDecodeWorkers(cores: number | undefined): number {
  return Math.max(0, Math.min(4, (cores ?? 1) - 1));
}
