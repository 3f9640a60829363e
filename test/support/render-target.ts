import type { CanvasLike, RenderTarget } from '../../src/core/gpu/render/render-target.js';

/** An RGBA8 image read back from the GPU, rows top to bottom. */
export interface Pixels {
  width: number;
  height: number;
  /** 4 bytes a pixel (r, g, b, a). */
  data: Uint8Array;
}

/** A render target that is a plain texture (`rgba8unorm`), read back with `read()`: what a canvas shows. */
export class TextureTarget implements RenderTarget {
  readonly format: GPUTextureFormat = 'rgba8unorm';
  #texture: GPUTexture | null = null;

  constructor(
    readonly device: GPUDevice,
    public width: number,
    public height: number,
  ) {}

  texture(): GPUTexture {
    this.#texture ??= this.device.createTexture({
      label: 'test render target',
      size: [this.width, this.height],
      format: this.format,
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    return this.#texture;
  }

  resize(width: number, height: number): void {
    this.#texture?.destroy();
    this.#texture = null;
    this.width = width;
    this.height = height;
  }

  destroy(): void {
    this.#texture?.destroy();
    this.#texture = null;
  }

  /** The last frame's pixels. */
  async read(): Promise<Pixels> {
    return readTexture(this.device, this.texture(), this.width, this.height);
  }
}

/** Copies an RGBA8 texture into a mappable buffer (rows padded to 256 bytes) and returns its pixels. */
export async function readTexture(
  device: GPUDevice,
  texture: GPUTexture,
  width: number,
  height: number,
): Promise<Pixels> {
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
  const buffer = device.createBuffer({
    label: 'test texture read-back',
    size: bytesPerRow * height,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyTextureToBuffer({ texture }, { buffer, bytesPerRow }, [width, height]);
    device.queue.submit([encoder.finish()]);
    await buffer.mapAsync(GPUMapMode.READ);
    const padded = new Uint8Array(buffer.getMappedRange());
    const data = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      data.set(padded.subarray(y * bytesPerRow, y * bytesPerRow + width * 4), y * width * 4);
    }
    return { width, height, data };
  } finally {
    buffer.destroy();
  }
}

/**
 * A stand-in for an `OffscreenCanvas` whose WebGPU context draws into a texture, so that the worker's
 * whole render path runs in Node: `pixels()` reads what the last frame drew.
 */
export class TextureCanvas implements CanvasLike {
  #device: GPUDevice | null = null;
  #texture: GPUTexture | null = null;
  #format: GPUTextureFormat = 'rgba8unorm';
  configured = false;

  constructor(
    public width: number,
    public height: number,
  ) {}

  getContext(contextId: 'webgpu'): GPUCanvasContext | null {
    if (contextId !== 'webgpu') return null;
    const context = {
      configure: (configuration: GPUCanvasConfiguration) => {
        this.#device = configuration.device;
        this.#format = configuration.format;
        this.configured = true;
      },
      unconfigure: () => {
        this.#texture?.destroy();
        this.#texture = null;
        this.configured = false;
      },
      getCurrentTexture: () => this.#current(),
    };
    return context as unknown as GPUCanvasContext;
  }

  /** The texture of the canvas's size, made again when the size changed (as a canvas does). */
  #current(): GPUTexture {
    const texture = this.#texture;
    if (texture && texture.width === this.width && texture.height === this.height) return texture;
    texture?.destroy();
    if (!this.#device) throw new Error('the canvas context is not configured');
    this.#texture = this.#device.createTexture({
      label: 'test canvas',
      size: [this.width, this.height],
      format: this.#format,
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    return this.#texture;
  }

  /** What the last frame drew. */
  async pixels(): Promise<Pixels> {
    if (!this.#device || !this.#texture) throw new Error('nothing was drawn on this canvas');
    return readTexture(this.#device, this.#texture, this.width, this.height);
  }
}
