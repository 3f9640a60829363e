import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import { decompressLz4Frame } from './lz4-frame.js';

/** Largest decompressed buffer accepted (a lying length prefix must not become a huge allocation). */
export const MAX_DECOMPRESSED_BYTES = 2 ** 31;

/** A decoder that fills `out` from `payload` and returns the bytes it wrote. */
type Decoder = (payload: Uint8Array, out: Uint8Array) => number;

const DECODERS: ReadonlyMap<number, { name: string; decode: Decoder }> = new Map([
  [CompressionType.LZ4_FRAME, { name: 'LZ4 frame', decode: decompressLz4Frame }],
  [
    CompressionType.ZSTD,
    {
      name: 'ZSTD',
      decode: (payload: Uint8Array, out: Uint8Array) => {
        const result = zstdDecompress(payload, out);
        if (result.buffer !== out.buffer || result.byteOffset !== 0)
          out.set(result.subarray(0, out.byteLength));
        return result.byteLength;
      },
    },
  ],
]);

/** The name of a body codec (`CompressionType`), or `null` for one this library cannot decode. */
export function codecName(codec: number): string | null {
  return DECODERS.get(codec)?.name ?? null;
}

/**
 * Decompresses one buffer's `payload` (the bytes after its length prefix) with `codec` into exactly
 * `declared` bytes; the caller has bounded `declared` first, since that much is allocated here.
 */
export function decompressBuffer(codec: number, payload: Uint8Array, declared: number): Uint8Array {
  const decoder = DECODERS.get(codec);
  if (decoder === undefined) throw new Error(`unknown compression codec ${codec}`);
  if (!(declared >= 0 && declared <= MAX_DECOMPRESSED_BYTES)) {
    throw new Error(
      `compressed buffer declares ${declared} uncompressed bytes (cap ${MAX_DECOMPRESSED_BYTES})`,
    );
  }
  const out = new Uint8Array(declared);
  let written: number;
  try {
    written = decoder.decode(payload, out);
  } catch (error) {
    throw new Error(
      `${decoder.name} buffer cannot be decompressed: ${String((error as Error)?.message ?? error)}`,
    );
  }
  if (written !== out.byteLength) {
    throw new Error(`${decoder.name} buffer decompressed to ${written} bytes, expected ${out.byteLength}`);
  }
  return out;
}

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

let registered = false;

/**
 * Registers LZ4_FRAME and ZSTD decoders with apache-arrow (it ships none since 21.1). The framer has
 * already bounded each buffer's declared length by its batch (see `checkCompressedBody`).
 */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  for (const codec of DECODERS.keys()) {
    compressionRegistry.set(codec, {
      decode: (payload: Uint8Array) => decompressBuffer(codec, payload, declaredLength(payload)),
    });
  }
}
