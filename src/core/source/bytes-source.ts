import type { ByteSource } from './byte-source.js';

/**
 * Bytes in memory as a byte source: one chunk (a message inside it is a view, never a copy), its end
 * read as a view too. The source owns `bytes`: a big-endian body is swapped in place.
 */
export function bytesSource(bytes: Uint8Array): ByteSource {
  async function* body(): AsyncGenerator<Uint8Array> {
    if (bytes.byteLength > 0) yield bytes;
  }
  return {
    body: body(),
    bytesTotal: bytes.byteLength,
    readTail: async (length) => bytes.subarray(Math.max(0, bytes.byteLength - length)),
  };
}
