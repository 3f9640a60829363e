import { MAX_IN_FLIGHT } from '../upload/transport.js';
import { ChunkPool } from './chunk-pool.js';
import type { DeviceChannel, RemoteDeviceInfo } from './device-channel.js';
import { RemoteBuffer, remoteIdOf } from './remote-buffer.js';
import { RemoteErrorScopes } from './remote-scopes.js';
import { REMOTE_CHUNK_BYTES, RemoteTransport } from './remote-transport.js';

/** The part of `GPUQueue` a load uses, forwarded to the caller's device. */
class RemoteQueue {
  constructor(
    readonly channel: DeviceChannel,
    readonly scopes: RemoteErrorScopes,
  ) {}

  /** Copies the bytes at once (as WebGPU does) and posts them. */
  writeBuffer(
    buffer: GPUBuffer,
    bufferOffset: number,
    data: BufferSource,
    dataOffset = 0,
    size?: number,
  ): void {
    const view = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    const unit = ArrayBuffer.isView(data) && 'BYTES_PER_ELEMENT' in data ? Number(data.BYTES_PER_ELEMENT) : 1;
    const start = dataOffset * unit;
    const bytes = view.slice(start, size === undefined ? undefined : start + size * unit);
    const write = {
      id: remoteIdOf(buffer),
      dstOffset: bufferOffset,
      srcOffset: 0,
      byteLength: bytes.byteLength,
    };
    this.scopes.record(this.channel.write(bytes.buffer, [write]).then((written) => written.error));
  }

  async onSubmittedWorkDone(): Promise<undefined> {
    await this.channel.done();
    return undefined;
  }
}

/**
 * A device that lives on another thread, as the worker sees it: the calls a load makes (buffers,
 * writes, error scopes, `onSubmittedWorkDone`) are forwarded through a `DeviceChannel`, and uploads go
 * through `transport()`. Used in place of a `GPUDevice` by the load pipeline only.
 */
export class RemoteDevice {
  readonly label = 'arrow-webgpu (caller device)';
  readonly limits: GPUSupportedLimits;
  readonly queue: RemoteQueue;
  /** Settles when the caller says its device was lost. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  readonly #channel: DeviceChannel;
  readonly #scopes = new RemoteErrorScopes();
  /** Chunks kept between loads (see `ChunkPool`), let go with the staging buffers of an idle loader. */
  readonly chunks = new ChunkPool(REMOTE_CHUNK_BYTES, MAX_IN_FLIGHT);
  #nextId = 1;
  #nextSession = 1;

  constructor(channel: DeviceChannel, info: RemoteDeviceInfo, lost: Promise<GPUDeviceLostInfo>) {
    this.#channel = channel;
    this.limits = {
      maxBufferSize: info.maxBufferSize,
      maxStorageBufferBindingSize: info.maxStorageBufferBindingSize,
    } as GPUSupportedLimits;
    this.queue = new RemoteQueue(channel, this.#scopes);
    this.lost = lost;
  }

  createBuffer(descriptor: GPUBufferDescriptor): GPUBuffer {
    const id = this.#nextId++;
    const label = descriptor.label ?? '';
    const { size, usage } = descriptor;
    this.#scopes.record(this.#channel.create({ id, label, size, usage }));
    const destroy = (gone: number) => void this.#channel.destroy([gone]).catch(() => {});
    return new RemoteBuffer(id, size, label, usage, destroy) as unknown as GPUBuffer;
  }

  pushErrorScope(filter: GPUErrorFilter): void {
    this.#scopes.push(filter);
  }

  popErrorScope(): Promise<GPUError | null> {
    return this.#scopes.pop();
  }

  /** A transport that fills chunks here and has them written on the caller's thread. */
  transport(): RemoteTransport {
    const session = this.#nextSession++;
    return new RemoteTransport(this.#channel, session, REMOTE_CHUNK_BYTES, MAX_IN_FLIGHT, this.chunks);
  }

  /** Takes an `uncapturederror` listener: it hears of the errors no scope caught. */
  addEventListener(type: string, listener: (event: GPUUncapturedErrorEvent) => void): void {
    if (type !== 'uncapturederror') return;
    this.#scopes.onUncaptured = (message) => listener({ error: { message } } as GPUUncapturedErrorEvent);
  }

  destroy(): void {}

  /** This stand-in as the device type the pipeline takes (it reads only the members above). */
  asDevice(): GPUDevice {
    return this as unknown as GPUDevice;
  }
}
