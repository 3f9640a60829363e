import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import { decompressLz4Frame } from './lz4-frame.js';

/** Largest decompressed buffer accepted (a lying length prefix must not become a huge allocation). */
export const MAX_DECOMPRESSED_BYTES = 2 ** 31;

/**
 * Reads the uncompressed length that precedes a compressed Arrow buffer. apache-arrow hands codecs the
 * payload as a view that starts just after that 8-byte prefix, inside the same body.
 */
function declaredLength(payload: Uint8Array): number {
  if (payload.byteOffset < 8) throw new Error('compressed buffer has no uncompressed-length prefix');
  const length = new DataView(payload.buffer, payload.byteOffset - 8, 8).getBigInt64(0, true);
  if (length < 0n || length > BigInt(MAX_DECOMPRESSED_BYTES)) {
    throw new Error(
      `compressed buffer declares ${length} uncompressed bytes (cap ${MAX_DECOMPRESSED_BYTES})`,
    );
  }
  return Number(length);
}

function checked(name: string, decode: (payload: Uint8Array, out: Uint8Array) => number) {
  return {
    decode(payload: Uint8Array): Uint8Array {
      const out = new Uint8Array(declaredLength(payload));
      let written: number;
      try {
        written = decode(payload, out);
      } catch (error) {
        throw new Error(
          `${name} buffer cannot be decompressed: ${String((error as Error)?.message ?? error)}`,
        );
      }
      if (written !== out.byteLength) {
        throw new Error(`${name} buffer decompressed to ${written} bytes, expected ${out.byteLength}`);
      }
      return out;
    },
  };
}

let registered = false;

/** Registers LZ4_FRAME and ZSTD decoders with apache-arrow (it ships none since 21.1). */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  compressionRegistry.set(CompressionType.LZ4_FRAME, checked('LZ4 frame', decompressLz4Frame));
  compressionRegistry.set(
    CompressionType.ZSTD,
    checked('ZSTD', (payload, out) => {
      const result = zstdDecompress(payload, out);
      if (result.buffer !== out.buffer || result.byteOffset !== 0)
        out.set(result.subarray(0, out.byteLength));
      return result.byteLength;
    }),
  );
}
