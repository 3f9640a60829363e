/** Runs `run` after `ms` milliseconds; returns how to cancel it. */
export type Schedule = (run: () => void, ms: number) => () => void;

const timeout: Schedule = (run, ms) => {
  const id = setTimeout(run, ms);
  return () => clearTimeout(id);
};

/**
 * Calls `report` at most once per `intervalMs`, so that a fast load does not flood the main thread with
 * messages. A tick that comes too soon is not lost: one report follows when the interval is up, with the
 * state then (a load that pauses, on a stream held back, still reports the rows that landed).
 */
export class ProgressThrottle<T> {
  readonly #report: (value: T) => void;
  readonly #intervalMs: number;
  readonly #schedule: Schedule;
  #last = Number.NEGATIVE_INFINITY;
  /** The trailing report waiting for its interval, if one is. */
  #cancelTrailing: (() => void) | null = null;
  #stopped = false;

  constructor(report: (value: T) => void, intervalMs = 50, schedule: Schedule = timeout) {
    this.#report = report;
    this.#intervalMs = intervalMs;
    this.#schedule = schedule;
  }

  /** Reports `make()` now, or once `intervalMs` has passed since the last report (`make` called then). */
  tick(now: number, make: () => T): void {
    if (this.#stopped || this.#cancelTrailing) return;
    const wait = this.#last + this.#intervalMs - now;
    if (wait <= 0) {
      this.#last = now;
      this.#report(make());
      return;
    }
    this.#cancelTrailing = this.#schedule(() => {
      this.#cancelTrailing = null;
      if (this.#stopped) return;
      this.#last = now + wait;
      this.#report(make());
    }, wait);
  }

  /** Reports unconditionally, and nothing after. */
  final(now: number, value: T): void {
    this.stop();
    this.#last = now;
    this.#report(value);
  }

  /** Reports nothing more (the load failed or was cancelled). */
  stop(): void {
    this.#stopped = true;
    this.#cancelTrailing?.();
    this.#cancelTrailing = null;
  }
}
