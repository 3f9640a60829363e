import type { AdapterSummary } from '../../types.js';
import { GpuError } from '../errors.js';
import { BufferTracker } from './buffer-tracker.js';
import { RemoteDevice } from './remote/remote-device.js';
import { StagingRing } from './upload/staging-ring.js';
import type { UploadTransport } from './upload/transport.js';

/**
 * One adapter and device with everything loads share on it: the buffer tracker and the staging ring.
 * The device is requested with the adapter's own buffer limits, never WebGPU's smaller defaults.
 */
export class GpuContext {
  readonly device: GPUDevice;
  readonly tracker: BufferTracker;
  readonly ring: StagingRing;
  readonly summary: AdapterSummary;
  /** Why the device was lost, once it was. */
  lostReason: string | null = null;
  /** Errors the device raised outside any error scope (`uncapturederror`) so far. */
  uncapturedErrors = 0;
  /** The message of the last of those. */
  lastUncapturedError: string | null = null;
  /** How loads upload when the device lives on another thread (a `RemoteDevice`); absent otherwise. */
  readonly transport: (() => UploadTransport) | undefined;
  /** The device on another thread, when it is one. */
  readonly #remote: RemoteDevice | null;
  /** Whether `destroy` destroys the device too (not a device the caller owns). */
  readonly #owned: boolean;

  private constructor(
    device: GPUDevice,
    summary: AdapterSummary,
    maxBufferBytes: number | undefined,
    owned = true,
    stagingSlotBytes?: number,
  ) {
    this.device = device;
    this.#owned = owned;
    const remote = (device as unknown) instanceof RemoteDevice ? (device as unknown as RemoteDevice) : null;
    this.#remote = remote;
    this.transport = remote ? () => remote.transport() : undefined;
    this.summary = summary;
    // A device on another thread releases its own destroyed buffers (its writer does).
    this.tracker = new BufferTracker(device, maxBufferBytes, this.transport === undefined);
    this.ring = new StagingRing(device, this.tracker, undefined, stagingSlotBytes);
    // Every upload call runs in an error scope; anything else the device reports still fails the loads
    // in flight (a table the GPU may not have written is never handed out).
    device.addEventListener('uncapturederror', (event) => {
      this.uncapturedErrors++;
      this.lastUncapturedError = (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  /**
   * Lets go of what loads keep between them (an idle loader then holds only its tables): the staging
   * ring's free buffers, or the chunks kept for a device on another thread.
   */
  trim(): void {
    this.ring.trim();
    this.#remote?.chunks.clear();
  }

  /**
   * Requests an adapter and a device; `onLost` runs once if the device is lost later. `maxBufferBytes`
   * caps each column buffer below the device's own limit.
   */
  static async open(
    gpu: GPU | undefined,
    onLost: (context: GpuContext) => void,
    maxBufferBytes?: number,
  ): Promise<GpuContext> {
    if (!gpu) {
      throw new GpuError('NO_WEBGPU', 'WebGPU is not available here (navigator.gpu is undefined)');
    }
    const unavailable = (what: string) => (error: unknown) => {
      throw new GpuError('NO_WEBGPU', `WebGPU ${what} failed: ${String((error as Error)?.message ?? error)}`);
    };
    const adapter = await gpu
      .requestAdapter({ powerPreference: 'high-performance' })
      .catch(unavailable('requestAdapter()'));
    if (!adapter) throw new GpuError('NO_WEBGPU', 'WebGPU returned no adapter (requestAdapter() gave null)');
    const device = await adapter
      .requestDevice({
        label: 'arrow-webgpu',
        requiredLimits: {
          maxBufferSize: adapter.limits.maxBufferSize,
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          // Every chunk of a long column is a binding of its own: shaders reading several need many.
          maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
        },
      })
      .catch(unavailable('requestDevice()'));
    const info = adapter.info;
    const context = new GpuContext(
      device,
      {
        vendor: info.vendor,
        architecture: info.architecture,
        description: info.description,
        isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
        maxBufferSize: device.limits.maxBufferSize,
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      },
      maxBufferBytes,
    );
    void device.lost.then((lost) => {
      context.lostReason = lost.message || String(lost.reason);
      context.ring.destroy(context.lostError());
      onLost(context);
    });
    return context;
  }

  /**
   * A context on a device the caller made and keeps: `destroy` leaves the device alone. `onLost` runs
   * once if it is lost.
   */
  static adopt(
    device: GPUDevice,
    onLost: (context: GpuContext) => void,
    maxBufferBytes?: number,
    stagingSlotBytes?: number,
  ): GpuContext {
    const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const summary: AdapterSummary = {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    };
    const context = new GpuContext(device, summary, maxBufferBytes, false, stagingSlotBytes);
    void device.lost.then((lost) => {
      context.lostReason = lost.message || String(lost.reason);
      context.ring.destroy(context.lostError());
      onLost(context);
    });
    return context;
  }

  /** The error that loads and reads on this context raise once the device is lost. */
  lostError(): GpuError {
    return new GpuError('DEVICE_LOST', `The GPU device was lost: ${this.lostReason ?? 'unknown reason'}`);
  }

  /** Destroys every buffer and the device (once no other thread writes into a mapped range of it). */
  destroy(): void {
    this.ring.destroy();
    this.tracker.destroyAll();
    if (!this.#owned) return;
    const writing = this.tracker.writing();
    if (writing) void writing.then(() => this.device.destroy());
    else this.device.destroy();
  }
}
