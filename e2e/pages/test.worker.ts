/// <reference lib="webworker" />
// The loader's worker with test hooks, for the browser tests only: the shipped worker has none. Hooks
// arrive on a BroadcastChannel named after the `id` in this script's URL, so that no hook crosses the
// loader's own protocol.
import { LoaderService } from '../../src/core/service/loader-service.js';
import { exposeLoader, loaderApi } from '../../workers/expose-loader.js';
import { fetchSource } from '../../workers/fetch-source.js';
import { webDecodeWorker } from '../../workers/web-decode-workers.js';
import { webReadWorker, webReadWorkerSource } from '../../workers/web-read-worker.js';

/** What a test can ask of the worker. */
export type TestHook = 'loseDevice' | 'crash' | 'exit' | 'crashDecodeWorker' | 'crashReadWorker';

/** Decode workers with a crash hook; none by default, as on a 2-core machine (loads ask for them). */
const decodeWorkers: Worker[] = [];
const spawn = () => {
  const worker = new Worker(new URL('./test-decode.worker.ts', import.meta.url), { type: 'module' });
  decodeWorkers.push(worker);
  return webDecodeWorker(worker);
};
/** The read worker with a crash hook; off by default, as on a 2-core machine (`readWorker: true` asks for it). */
const readWorkers: Worker[] = [];
const spawnRead = () => {
  const worker = new Worker(new URL('./test-read.worker.ts', import.meta.url), { type: 'module' });
  readWorkers.push(worker);
  return webReadWorker(worker);
};
const readWorker = webReadWorkerSource(spawnRead, false);
const service = new LoaderService(self.navigator.gpu, fetchSource, {
  decodeWorkers: { spawn, count: 0 },
  readWorker,
});
exposeLoader(loaderApi(service));

const id = new URL(self.location.href).searchParams.get('id') ?? '0';
const hooks = new BroadcastChannel(`arrow-webgpu-test-hooks-${id}`);
hooks.onmessage = async ({
  data,
}: MessageEvent<{ hook: TestHook; words?: Uint32Array<ArrayBuffer> | null }>) => {
  switch (data.hook) {
    case 'loseDevice': {
      // As a driver reset would.
      const context = await service.devices.opened();
      context?.device.destroy();
      if (context) await context.device.lost;
      break;
    }
    case 'crash':
      setTimeout(() => {
        throw new Error('arrow-webgpu worker crash requested by a test');
      });
      break;
    case 'crashDecodeWorker':
      // The newest decode worker throws outside any work: its load fails with WORKER_FAILED.
      decodeWorkers.at(-1)?.postMessage({ type: 'crash' });
      break;
    case 'crashReadWorker':
      readWorkers.at(-1)?.postMessage({ type: 'crash' });
      break;
    case 'exit':
      // Ends the worker without an error event, as the browser does when it kills a worker for memory.
      self.close();
      return;
  }
  hooks.postMessage({ done: data.hook });
};
