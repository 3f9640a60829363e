import { GpuContext } from '../gpu/device-context.js';

/** How long the staging buffers outlive the last load before they are released. */
export const IDLE_TRIM_MS = 1000;

/**
 * The worker's one GPU device: opened on first use, replaced after a loss, and trimmed of its staging
 * buffers once no load has run for `IDLE_TRIM_MS`, so that an idle loader holds only its tables.
 */
export class DeviceManager {
  #gpu: GPU | undefined;
  readonly #onLost: (context: GpuContext) => void;
  readonly #idleTrimMs: number;
  #maxBufferBytes: number | undefined;
  #context: Promise<GpuContext> | null = null;
  #activeLoads = 0;
  #trimTimer: ReturnType<typeof setTimeout> | undefined;

  /** `onLost` runs once for each device that is lost, after it was dropped here. */
  constructor(gpu: GPU | undefined, onLost: (context: GpuContext) => void, idleTrimMs = IDLE_TRIM_MS) {
    this.#gpu = gpu;
    this.#onLost = onLost;
    this.#idleTrimMs = idleTrimMs;
  }

  /** Opens devices from `gpu` from now on (before any was opened: a loader given the caller's device). */
  useGpu(gpu: GPU): void {
    this.#gpu = gpu;
  }

  /** Sets the cap on column buffers of the devices opened from now on. */
  configure(maxBufferBytes: number | undefined): void {
    this.#maxBufferBytes = maxBufferBytes;
  }

  /** The current device, opening one if there is none (or the last was lost). */
  current(): Promise<GpuContext> {
    if (!this.#context) {
      const opening = GpuContext.open(this.#gpu, (lost) => this.#lost(lost), this.#maxBufferBytes);
      this.#context = opening;
      opening.catch(() => {
        if (this.#context === opening) this.#context = null;
      });
    }
    return this.#context;
  }

  /** The texture format canvases draw in: the browser's preferred one (`rgba8unorm` where it names none). */
  canvasFormat(): GPUTextureFormat {
    return this.#gpu?.getPreferredCanvasFormat?.() ?? 'rgba8unorm';
  }

  /** The current device if one is open, without opening one. */
  async opened(): Promise<GpuContext | null> {
    return (await this.#context?.catch(() => null)) ?? null;
  }

  /** Marks a load as running: staging buffers are kept until every load has ended. */
  loadStarted(): void {
    this.#activeLoads++;
    clearTimeout(this.#trimTimer);
  }

  /** Marks a load as ended; the last one to end schedules the release of the staging buffers. */
  loadEnded(): void {
    this.#activeLoads--;
    if (this.#activeLoads > 0) return;
    clearTimeout(this.#trimTimer);
    this.#trimTimer = setTimeout(() => void this.trim(), this.#idleTrimMs);
  }

  /** Releases the staging buffers now, unless a load is running (the next load makes them again). */
  async trim(): Promise<void> {
    clearTimeout(this.#trimTimer);
    if (this.#activeLoads > 0) return;
    const context = await this.opened();
    await context?.ring.prepared(); // a buffer made for a load that ended first is released too
    if (this.#activeLoads > 0 || !context) return;
    context.trim();
    context.tracker.releaseDestroyed();
  }

  /** Destroys the device and everything on it. */
  async close(): Promise<void> {
    clearTimeout(this.#trimTimer);
    const context = await this.opened();
    this.#context = null;
    context?.destroy();
  }

  #lost(context: GpuContext): void {
    // The next load opens a fresh device; loads and tables on the lost one fail with DEVICE_LOST.
    const current = this.#context;
    void current?.then(
      (open) => {
        if (open === context && this.#context === current) this.#context = null;
      },
      () => {},
    );
    this.#onLost(context);
  }
}
