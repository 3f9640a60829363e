/** Least milliseconds between the end of a frame and a redraw for rows that landed: about a display frame. */
export const GROWTH_FRAME_MS = 1000 / 60;

/**
 * A redraw for rows that landed waits this many times the last frame's drawing time after it ended, so
 * that drawing takes at most a fifth of the GPU while the load uploads through the same queue (on a
 * CPU rasteriser, SwiftShader, a frame of millions of points takes seconds).
 */
export const GROWTH_FRAME_FACTOR = 4;

/**
 * Paces the redraws a view makes as its table grows: requests coalesce into one redraw, run no sooner
 * than `GROWTH_FRAME_MS` and `GROWTH_FRAME_FACTOR` × the last frame's time after the last one ended,
 * and never more than one at a time: a request that comes while a redraw runs is served after it.
 */
export class RedrawPacer {
  readonly #redraw: () => Promise<void>;
  readonly #frameMs: () => number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #again = false;
  #stopped = false;
  #endedAt = Number.NEGATIVE_INFINITY;

  /**
   * `redraw` draws a frame of the rows landed so far (its failures are its own to report); `frameMs`
   * is the last frame's drawing time.
   */
  constructor(redraw: () => Promise<void>, frameMs: () => number) {
    this.#redraw = redraw;
    this.#frameMs = frameMs;
  }

  /** Rows landed: a redraw soon, once the last frame's time has been paid for. */
  request(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== null) return;
    const since = performance.now() - this.#endedAt;
    const wait = Math.max(GROWTH_FRAME_MS, GROWTH_FRAME_FACTOR * this.#frameMs() - since);
    this.#timer = setTimeout(() => void this.#run(), wait);
  }

  /** No more redraws (the view is gone). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #run(): Promise<void> {
    this.#timer = null;
    if (this.#stopped) return;
    this.#running = true;
    try {
      await this.#redraw();
    } catch {
      // A failed redraw (the device lost, the table destroyed) shows in the view's next call.
    } finally {
      this.#running = false;
      this.#endedAt = performance.now();
    }
    if (this.#again) {
      this.#again = false;
      this.request();
    }
  }
}
