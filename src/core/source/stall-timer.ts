/**
 * Aborts its `signal` when `arm()` is not called again within `ms`: a source that sends no byte for that
 * long has stalled. Without `ms` it never fires.
 */
export class StallTimer {
  readonly #controller = new AbortController();
  readonly ms: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether it fired. */
  fired = false;

  constructor(ms: number | undefined) {
    this.ms = ms;
  }

  /** Aborted when the timer fires. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** (Re)starts the countdown. */
  arm(): void {
    if (this.ms === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.fired = true;
      this.#controller.abort();
    }, this.ms);
  }

  /** Stops the countdown (while the consumer holds a chunk: backpressure is no stall). */
  disarm(): void {
    clearTimeout(this.#timer);
  }
}
