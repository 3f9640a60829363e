import { blobSource } from './blob-source.js';
import type { ByteSource } from './byte-source.js';
import { bytesSource } from './bytes-source.js';
import type { SourceSpec } from './source-spec.js';
import { streamSource } from './stream-source.js';

/**
 * Opens a source that is not a URL; `name` names it in errors. Aborting `signal` (a cancel, or the end
 * of the load) cancels a stream that was not read to its end.
 */
export function openSourceSpec(
  spec: SourceSpec,
  name: string,
  signal: AbortSignal,
  options: { timeoutMs?: number },
): ByteSource {
  switch (spec.kind) {
    case 'bytes':
      return bytesSource(spec.bytes);
    case 'blob':
      return blobSource(spec.blob, name, signal, options);
    case 'stream':
      return streamSource(spec.stream, name, signal, { ...options, bytesTotal: spec.bytesTotal });
  }
}

/** Cancels a stream source that was never opened (the load failed first), so that nothing is left pulling. */
export function discardSourceSpec(spec: SourceSpec | undefined, reason: unknown): void {
  if (spec?.kind === 'stream' && !spec.stream.locked) spec.stream.cancel(reason).catch(() => {});
}
