/// <reference lib="webworker" />
// The loader's worker with test hooks, for the browser tests only: the shipped worker has none. Hooks
// arrive on a BroadcastChannel named after the `id` in this script's URL, so that no hook crosses the
// loader's own protocol.
import { LoaderService } from '../../src/core/service/loader-service.js';
import { exposeLoader, loaderApi } from '../../workers/expose-loader.js';
import { fetchSource } from '../../workers/fetch-source.js';

/** What a test can ask of the worker. */
export type TestHook = 'loseDevice' | 'crash' | 'exit' | 'mask';

const service = new LoaderService(self.navigator.gpu, fetchSource);
exposeLoader(loaderApi(service));

const id = new URL(self.location.href).searchParams.get('id') ?? '0';
const hooks = new BroadcastChannel(`arrow-webgpu-test-hooks-${id}`);
/** The row mask the `mask` hook gave the newest view; the view does not own it. */
let mask: GPUBuffer | null = null;

/** Gives the newest render view a mask of `words` (or none), then frees the mask it replaced. */
async function setMask(words: Uint32Array<ArrayBuffer> | null): Promise<void> {
  const context = await service.devices.opened();
  const view = service.views.all().at(-1);
  if (!context || !view) throw new Error('the mask hook needs a render view');
  let next: GPUBuffer | null = null;
  if (words) {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    next = await context.tracker.create({
      label: 'test row mask',
      size: Math.max(4, words.byteLength),
      usage,
    });
    context.device.queue.writeBuffer(next, 0, words);
  }
  await view.setMask(next);
  if (mask) context.tracker.destroy(mask);
  mask = next;
}

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
    case 'mask':
      try {
        await setMask(data.words ?? null);
      } catch (error) {
        hooks.postMessage({ done: data.hook, error: String(error) });
        return;
      }
      break;
    case 'exit':
      // Ends the worker without an error event, as the browser does when it kills a worker for memory.
      self.close();
      return;
  }
  hooks.postMessage({ done: data.hook });
};
