import { NetworkError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { readStream } from './stream-source.js';

/**
 * A `Blob` (a `File`, a dropped file) as a byte source: read front to back through `blob.stream()`,
 * its size announced, and its end read by slicing (for files whose schema is only in their footer).
 * A read the browser refuses (the file changed or went since it was picked) fails with `NETWORK`.
 */
export function blobSource(
  blob: Blob,
  name: string,
  signal: AbortSignal,
  options: { timeoutMs?: number } = {},
): ByteSource {
  return {
    body: readStream(blob.stream(), name, signal, options.timeoutMs),
    bytesTotal: blob.size,
    readTail: async (length) => {
      const start = Math.max(0, blob.size - length);
      try {
        return new Uint8Array(await blob.slice(start).arrayBuffer());
      } catch (error) {
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        throw new NetworkError(
          `${name} could not be read from byte ${start} (for the file footer): ${text}`,
          { url: name, byteOffset: start },
          { cause: error },
        );
      }
    },
  };
}
