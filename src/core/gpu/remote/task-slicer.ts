/** Longest stretch of work before the caller's thread is given back (well under a 50 ms long task). */
export const SLICE_MS = 8;

/** Resolves in a new task, after whatever the thread had queued (input, frames). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Cuts a run of work into tasks: `maybeYield()` gives the thread back once the current task has run
 * `sliceMs`, so that no task of it is long.
 */
export class TaskSlicer {
  #taskStart = performance.now();
  /** Longest task seen, in milliseconds (as measured between yields). */
  longestMs = 0;

  constructor(
    readonly sliceMs = SLICE_MS,
    readonly yieldTask: () => Promise<void> = nextTask,
  ) {}

  /** Marks the start of a task (work resumed after a wait). */
  started(): void {
    this.#taskStart = performance.now();
  }

  /** Yields when the current task has run long enough. */
  async maybeYield(): Promise<void> {
    const ran = performance.now() - this.#taskStart;
    this.longestMs = Math.max(this.longestMs, ran);
    if (ran < this.sliceMs) return;
    await this.yieldTask();
    this.#taskStart = performance.now();
  }
}
