import { ArgumentError } from '../../errors.js';

/** Where a view draws: a texture of `format` the size of the drawing, fetched anew for each frame. */
export interface RenderTarget {
  readonly format: GPUTextureFormat;
  /** Device pixels. */
  readonly width: number;
  readonly height: number;
  /** The texture this frame draws into (a canvas hands out a new one per frame). */
  texture(): GPUTexture;
  /** Changes the size in device pixels. */
  resize(width: number, height: number): void;
  /** Lets go of the drawing surface. */
  destroy(): void;
}

/** What the renderer needs of an `OffscreenCanvas` (and tests can stand in for). */
export interface CanvasLike {
  width: number;
  height: number;
  getContext(contextId: 'webgpu'): GPUCanvasContext | null;
}

/** Whether `value` can be drawn into: an `OffscreenCanvas`, or anything with its shape. */
export function isCanvasLike(value: unknown): value is CanvasLike {
  const canvas = value as CanvasLike | null;
  return (
    typeof canvas === 'object' &&
    canvas !== null &&
    typeof canvas.getContext === 'function' &&
    typeof canvas.width === 'number' &&
    typeof canvas.height === 'number'
  );
}

/**
 * A canvas's WebGPU context, configured for `device` in `format` with premultiplied alpha (the page shows
 * through where nothing is drawn). A canvas already holding another kind of context is `INVALID_ARGUMENT`.
 */
export class CanvasTarget implements RenderTarget {
  readonly format: GPUTextureFormat;
  readonly #canvas: CanvasLike;
  readonly #context: GPUCanvasContext;

  constructor(canvas: CanvasLike, device: GPUDevice, format: GPUTextureFormat) {
    let context: GPUCanvasContext | null = null;
    try {
      context = canvas.getContext('webgpu');
    } catch {
      // A canvas with a 2d or WebGL context throws in some browsers and returns null in others.
    }
    if (!context) {
      throw new ArgumentError(
        'render: the canvas gave no WebGPU context (it already has a 2d or WebGL one, or it was transferred elsewhere)',
        { option: 'canvas' },
      );
    }
    context.configure({ device, format, alphaMode: 'premultiplied' });
    this.#canvas = canvas;
    this.#context = context;
    this.format = format;
  }

  get width(): number {
    return this.#canvas.width;
  }

  get height(): number {
    return this.#canvas.height;
  }

  texture(): GPUTexture {
    return this.#context.getCurrentTexture();
  }

  resize(width: number, height: number): void {
    this.#canvas.width = width;
    this.#canvas.height = height;
  }

  destroy(): void {
    this.#context.unconfigure();
  }
}
