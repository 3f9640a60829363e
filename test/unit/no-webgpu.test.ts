import { describe, expect, it } from 'vitest';
import { type ArrowGpuError, GpuError } from '../../src/core/errors.js';
import { GpuContext } from '../../src/core/gpu/device-context.js';
import { LoaderService } from '../../src/core/service/loader-service.js';

// Where WebGPU is missing or refuses, the loader says so with NO_WEBGPU — not DEVICE_LOST, which is
// for a device that existed and went away.

async function failure(promise: Promise<unknown>): Promise<ArrowGpuError> {
  try {
    await promise;
  } catch (error) {
    return error as ArrowGpuError;
  }
  throw new Error('expected a rejection');
}

const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
const refusing = {
  requestAdapter: async () => {
    throw new DOMException('blocked by policy', 'SecurityError');
  },
} as unknown as GPU;

describe('no WebGPU', () => {
  const cases: Array<[string, GPU | undefined, RegExp]> = [
    ['navigator.gpu is undefined', undefined, /navigator\.gpu is undefined/],
    ['requestAdapter() gives null', noAdapter, /no adapter/],
    ['requestAdapter() throws', refusing, /requestAdapter\(\) failed: blocked by policy/],
  ];
  for (const [what, gpu, message] of cases) {
    it(`${what}: NO_WEBGPU from the device and from the worker's init`, async () => {
      const opened = await failure(GpuContext.open(gpu, () => {}));
      expect(opened).toBeInstanceOf(GpuError);
      expect(opened.code).toBe('NO_WEBGPU');
      expect(opened.message).toMatch(message);
      const service = new LoaderService(gpu, async () => {
        throw new Error('no source should be opened');
      });
      const init = await failure(service.init({ upload: 'staging' }));
      expect(init.code).toBe('NO_WEBGPU');
      // A load asks for the device again, and fails the same way, without opening its source.
      const load = await failure(service.load({ loadId: 1, url: 'test://x' }));
      expect(load.code).toBe('NO_WEBGPU');
    });
  }
});
