import { CompressionType } from 'apache-arrow';
import { formatBytes } from '../../errors.js';
import type { BufferKind } from '../metadata/type-layout.js';
import { codecName, MAX_DECOMPRESSED_BYTES } from './codecs.js';

/** LZ4: a match length grows by 255 for each extra input byte, so no frame expands more than this. */
export const LZ4_MAX_RATIO = 255;

/** ZSTD: a block holds at most 128 KiB and takes at least 4 bytes (an RLE block), so 32768 at most. */
export const ZSTD_MAX_RATIO = 32768;

/** Slack on every bound from a type: Arrow pads buffers to 64 bytes, and some writers compress that too. */
export const BOUND_PADDING = 64;

/** The most bytes a buffer may decompress to, and what says so (for error messages). */
export interface Bound {
  bytes: number;
  why: string;
}

function padded(bytes: number, why: string): Bound {
  return { bytes: Math.ceil(bytes / BOUND_PADDING) * BOUND_PADDING, why: `${why} (padded to 64 bytes)` };
}

/**
 * The most bytes a buffer of `kind` needs for a node of `length` values; `lastOffset` reads the node's
 * last offset, for variable-size values. `null` when the type does not bound it.
 */
export function typeBound(kind: BufferKind, length: number, lastOffset: () => number): Bound | null {
  switch (kind.kind) {
    case 'bits':
      return padded(Math.ceil(length / 8), `a bitmap of ${length} values`);
    case 'fixed':
      return padded(length * kind.width, `${length} values of ${kind.width} bytes`);
    case 'offsets':
      return padded((length + 1) * kind.width, `${length + 1} offsets of ${kind.width} bytes`);
    case 'values': {
      const end = lastOffset();
      return padded(end, `its last offset, ${end}`);
    }
    case 'free':
      return null;
  }
}

/** The most bytes `compressed` bytes of `codec` can decompress to. */
export function codecBound(codec: number, compressed: number): Bound {
  const ratio = codec === CompressionType.ZSTD ? ZSTD_MAX_RATIO : LZ4_MAX_RATIO;
  return {
    bytes: ratio * compressed,
    why: `${ratio} times its ${compressed} compressed bytes (the largest ${codecName(codec)} ratio)`,
  };
}

const CAP: Bound = {
  bytes: MAX_DECOMPRESSED_BYTES,
  why: `the cap of ${formatBytes(MAX_DECOMPRESSED_BYTES)}`,
};

/** The tightest of the bounds given and the 2 GiB cap. */
export function tightest(...bounds: ReadonlyArray<Bound | null>): Bound {
  let best = CAP;
  for (const bound of bounds) if (bound !== null && bound.bytes < best.bytes) best = bound;
  return best;
}
