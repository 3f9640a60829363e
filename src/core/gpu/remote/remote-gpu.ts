import type { DeviceChannel, RemoteDeviceInfo } from './device-channel.js';
import { RemoteDevice } from './remote-device.js';

/**
 * A `GPU` whose one adapter hands out a `RemoteDevice`: a worker whose loads go to the caller's device
 * opens it as it would open its own, and so keeps its device handling (tracker, loss, trimming).
 */
export class RemoteGpu {
  readonly #device: RemoteDevice;
  readonly #info: RemoteDeviceInfo;

  /** `lost` settles when the caller's device is lost. */
  constructor(channel: DeviceChannel, info: RemoteDeviceInfo, lost: Promise<GPUDeviceLostInfo>) {
    this.#device = new RemoteDevice(channel, info, lost);
    this.#info = info;
  }

  async requestAdapter(): Promise<GPUAdapter> {
    const info = this.#info;
    const adapter = {
      info: { vendor: info.vendor, architecture: info.architecture, description: info.description },
      limits: this.#device.limits,
      requestDevice: async () => this.#device.asDevice(),
    };
    return adapter as unknown as GPUAdapter;
  }

  getPreferredCanvasFormat(): GPUTextureFormat {
    return 'rgba8unorm';
  }

  /** This stand-in as the `GPU` type a `DeviceManager` takes. */
  asGpu(): GPU {
    return this as unknown as GPU;
  }
}
