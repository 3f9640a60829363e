import type { ScopedGpuError } from '../error-scope.js';

/** An error scope opened on the stand-in device, and the outcomes of the calls made while it was open. */
interface Scope {
  filter: GPUErrorFilter;
  outcomes: Array<{ outcome: Promise<ScopedGpuError | null>; stack: readonly Scope[] }>;
}

/**
 * WebGPU's error scopes for calls that run on another thread: each call's outcome arrives later, and
 * goes, as on a real device, to the innermost scope open at the call whose filter matches its kind;
 * with none, it counts as uncaptured.
 */
export class RemoteErrorScopes {
  readonly #stack: Scope[] = [];
  /** Hears of each error no scope caught. */
  onUncaptured: (message: string) => void = () => {};

  push(filter: GPUErrorFilter): void {
    this.#stack.push({ filter, outcomes: [] });
  }

  /** Closes the innermost scope: resolves to the first error it caught, or `null`. */
  pop(): Promise<GPUError | null> {
    const scope = this.#stack.pop();
    if (!scope) return Promise.reject(new DOMException('No error scope is open', 'OperationError'));
    return (async () => {
      for (const { outcome, stack } of scope.outcomes) {
        const error = await outcome.catch(lostCall);
        if (error && catcherOf(stack, error) === scope) return { message: error.message } as GPUError;
      }
      return null;
    })();
  }

  /** Records a call's outcome in every scope open now; one that no scope of its kind catches is uncaptured. */
  record(outcome: Promise<ScopedGpuError | null>): void {
    const stack = [...this.#stack];
    for (const scope of stack) scope.outcomes.push({ outcome, stack });
    void outcome.catch(lostCall).then((error) => {
      if (error && !catcherOf(stack, error)) this.onUncaptured(error.message);
    });
  }
}

/** A call whose thread could not answer (the channel closed) failed as far as the load is concerned. */
function lostCall(reason: unknown): ScopedGpuError {
  return { kind: 'validation', message: `the caller's device did not answer: ${String(reason)}` };
}

/** The innermost scope of `stack` that catches `error`. */
function catcherOf(stack: readonly Scope[], error: ScopedGpuError): Scope | undefined {
  return stack.findLast((s) => s.filter === error.kind);
}
