/// <reference lib="webworker" />
import type {
  DecodeWorkerPort,
  FromDecoder,
  SpawnDecodeWorker,
  ToDecoder,
} from '../src/core/pipeline/pool/protocol.js';
import { webWorkerPort } from './web-worker-port.js';

/** Decode workers as Web Workers started from the loader worker (the library's bundled decode.worker). */
export const spawnWebDecodeWorker: SpawnDecodeWorker = () =>
  webDecodeWorker(new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module' }));

/** A started Web Worker that runs `serveDecoder`, as the pool's port. */
export function webDecodeWorker(worker: Worker): DecodeWorkerPort {
  return webWorkerPort<ToDecoder, FromDecoder>(worker);
}

/** The default number of decode workers: one per core beyond the loader's, at most 4. */
export function defaultDecodeWorkers(cores: number | undefined): number {
  return Math.max(0, Math.min(4, (cores ?? 1) - 1));
}
