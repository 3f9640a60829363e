/**
 * Calls `report` at most once per `intervalMs`, plus once more on `final()`, so that a fast load does
 * not flood the main thread with messages.
 */
export class ProgressThrottle<T> {
  readonly #report: (value: T) => void;
  readonly #intervalMs: number;
  #last = Number.NEGATIVE_INFINITY;

  constructor(report: (value: T) => void, intervalMs = 50) {
    this.#report = report;
    this.#intervalMs = intervalMs;
  }

  /** Reports `make()` unless the last report was under `intervalMs` ago (`make` is then not called). */
  tick(now: number, make: () => T): void {
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    this.#report(make());
  }

  /** Reports unconditionally. */
  final(now: number, value: T): void {
    this.#last = now;
    this.#report(value);
  }
}
