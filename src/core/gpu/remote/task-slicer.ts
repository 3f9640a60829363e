import { nextTask } from '../../next-task.js';

/** Longest stretch of work before the caller's thread is given back (well under a 50 ms long task). */
export const SLICE_MS = 5;

/**
 * Cuts a run of work into tasks: `maybeYield()` gives the thread back once `sliceMs` have passed since
 * it last did. Work that resumes after an await may still be in the task that ran the work before it
 * (a promise already settled), so the clock restarts only at its own yields: it yields early at worst.
 */
export class TaskSlicer {
  #taskStart = performance.now();

  constructor(
    readonly sliceMs = SLICE_MS,
    readonly yieldTask: () => Promise<void> = nextTask,
  ) {}

  /** Whether the current task has run long enough to give the thread back. */
  get due(): boolean {
    return performance.now() - this.#taskStart >= this.sliceMs;
  }

  /** Yields when the current task has run long enough. */
  async maybeYield(): Promise<void> {
    if (!this.due) return;
    await this.yieldTask();
    this.#taskStart = performance.now();
  }
}
