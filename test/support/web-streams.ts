/** The bytes cut at the given sizes (cycled), as copies. */
export function cutAt(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.byteLength; i++) {
    const size = Math.max(1, sizes[i % sizes.length] as number);
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  return out;
}

/** A ReadableStream that hands out `chunks` one pull at a time, then closes. */
export function byteStream<T>(chunks: readonly T[]): ReadableStream<T> {
  return watchedStream(chunks).stream;
}

/**
 * A ReadableStream of `chunks` that notes how many it handed out and whether it was cancelled; with `hang`, it never closes after
 * them (a slow or stalled producer).
 */
export function watchedStream<T>(
  chunks: readonly T[],
  { hang = false }: { hang?: boolean } = {},
): { stream: ReadableStream<T>; handedOut: number; cancelled: boolean; reason: unknown } {
  let next = 0;
  const state = {
    handedOut: 0,
    cancelled: false,
    reason: undefined as unknown,
    stream: new ReadableStream<T>(
      {
        pull(controller) {
          if (next < chunks.length) {
            controller.enqueue(chunks[next++] as T);
            state.handedOut = next;
          } else if (!hang) controller.close();
          else return new Promise<void>(() => {});
        },
        cancel(reason) {
          state.cancelled = true;
          state.reason = reason;
        },
      },
      { highWaterMark: 0 },
    ),
  };
  return state;
}

/** The error `promise` rejects with (an `Error` saying so when it resolves). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; details?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  return new Error('it did not fail');
}
