import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DecodeWorkerPort, DecodeWorkers } from '../src/core/pipeline/pool/protocol.js';

/** One decode worker a core beyond this thread's, at most 4. */
const defaultCount = () => Math.max(0, Math.min(4, availableParallelism() - 1));

/** Decode workers on `worker_threads`, each running `entry`: decode.node.ts built to JavaScript. */
export function nodeDecodeWorkers(entry: URL | string, count = defaultCount()): DecodeWorkers {
  return { count, spawn: () => nodeDecodeWorker(new Worker(entry)), readsBodies: true };
}

/**
 * Decode workers running decode.node.ts from source, through tsx (a development dependency: tests,
 * `npm run bench:node`). Node 20's workers ignore `--import` hooks, so each registers tsx itself.
 */
export function tsxDecodeWorkers(count = defaultCount()): DecodeWorkers {
  return { count, spawn: () => nodeDecodeWorker(startTsxDecodeWorker()), readsBodies: true };
}

/** One worker thread running decode.node.ts from source through tsx. */
export function startTsxDecodeWorker(): Worker {
  const entry = new URL('./decode.node.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true });
}

/** A started worker thread that runs `serveDecoder`, as the pool's port. */
export function nodeDecodeWorker(worker: Worker): DecodeWorkerPort {
  let terminated = false;
  const port: DecodeWorkerPort = {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: null,
    onFailure: null,
    terminate: () => {
      terminated = true;
      void worker.terminate();
    },
  };
  worker.on('message', (message) => port.onMessage?.(message));
  worker.on('error', (error: Error) => port.onFailure?.(error.message));
  worker.on('exit', (code) => {
    if (!terminated) port.onFailure?.(`it exited with code ${code}`);
  });
  return port;
}
