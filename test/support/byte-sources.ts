import { Table, tableToIPC } from 'apache-arrow';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';

/** The bytes as one chunk. */
export async function* whole(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The bytes cut at the given chunk sizes (cycled). */
export async function* chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.byteLength; i++) {
    const size = Math.max(1, sizes[i % sizes.length] as number);
    yield bytes.slice(at, at + size);
    at += size;
  }
}

/** The bytes through a WHATWG ReadableStream, as `fetch` delivers them. */
export async function* streamed(bytes: Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) controller.close();
      else {
        controller.enqueue(bytes.slice(at, at + chunkSize));
        at += chunkSize;
      }
    },
  });
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** Encodes a generated data set in memory. */
export function encodeDataset(spec: DatasetSpec): Uint8Array {
  return tableToIPC(new Table([...batchesOf(spec)]), spec.format);
}
