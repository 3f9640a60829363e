/**
 * A bounded LZ4 frame decoder. Every length in the frame (block sizes, literal runs, match lengths and
 * offsets) is checked against the input left and the output room before it is used, so that hostile
 * bytes fail at once instead of reading past the input or looping on a lying size.
 */

const MAGIC = 0x184d2204;
const MIN_MATCH = 4;
/** Block maximum sizes by the BD byte's code (4 to 7). */
const BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/** Raised on a malformed frame; the codec wrapper names the buffer. */
export class Lz4FrameError extends Error {}

/**
 * Decompresses one LZ4 frame (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) into `out`,
 * which must hold the whole content; returns the number of bytes written. Checksums are not verified.
 */
export function decompressLz4Frame(src: Uint8Array, out: Uint8Array): number {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const need = (at: number, n: number, what: string) => {
    if (at + n > src.byteLength) throw new Lz4FrameError(`${what} at byte ${at} runs past the frame's end`);
  };
  need(0, 7, 'frame header');
  if (view.getUint32(0, true) !== MAGIC) throw new Lz4FrameError('invalid magic number');
  const flags = src[4] as number;
  if (flags >> 6 !== 1 || (flags & 0b10) !== 0) throw new Lz4FrameError(`unsupported frame flags ${flags}`);
  const independent = (flags & 0x20) !== 0;
  const blockChecksums = (flags & 0x10) !== 0;
  const blockMax = BLOCK_MAX[((src[5] as number) >> 4) & 7];
  if (blockMax === undefined) throw new Lz4FrameError(`invalid block size code in ${src[5]}`);
  let at = 6 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0) + 1;
  let written = 0;
  for (;;) {
    need(at, 4, 'block size');
    const word = view.getUint32(at, true);
    at += 4;
    if (word === 0) return written; // end mark (a content checksum may follow)
    const size = word & 0x7fffffff;
    if (size > blockMax)
      throw new Lz4FrameError(`block of ${size} bytes over the frame's maximum ${blockMax}`);
    need(at, size + (blockChecksums ? 4 : 0), 'block');
    if (word & 0x80000000) {
      if (written + size > out.byteLength) throw new Lz4FrameError('uncompressed block overflows the output');
      out.set(src.subarray(at, at + size), written);
      written += size;
    } else {
      written = decompressBlock(src, at, at + size, out, written, independent ? written : 0);
    }
    at += size + (blockChecksums ? 4 : 0);
  }
}

/**
 * Decodes the LZ4 block `src[start, end)` into `out` from `written`; matches may reach back to
 * `windowStart` (the block's start for independent blocks, else the output's). Returns the new end.
 */
function decompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  written: number,
  windowStart: number,
): number {
  let s = start;
  let d = written;
  const fail = (what: string): never => {
    throw new Lz4FrameError(`${what} at byte ${s} of the frame`);
  };
  const length = (base: number): number => {
    let n = base;
    if (base === 15) {
      for (;;) {
        if (s >= end) fail('length runs past the block');
        const b = src[s++] as number;
        n += b;
        if (b !== 255) break;
      }
    }
    return n;
  };
  while (s < end) {
    const token = src[s++] as number;
    const literals = length(token >> 4);
    if (s + literals > end) fail('literals run past the block');
    if (d + literals > out.byteLength) fail('literals overflow the output');
    out.set(src.subarray(s, s + literals), d);
    s += literals;
    d += literals;
    if (s === end) break; // the last sequence has literals only
    if (s + 2 > end) fail('match offset runs past the block');
    const offset = (src[s] as number) | ((src[s + 1] as number) << 8);
    s += 2;
    if (offset === 0 || offset > d - windowStart) fail(`match offset ${offset} points before the data`);
    const match = length(token & 15) + MIN_MATCH;
    if (d + match > out.byteLength) fail('match overflows the output');
    if (offset >= match) {
      out.copyWithin(d, d - offset, d - offset + match);
    } else {
      for (let i = 0; i < match; i++) out[d + i] = out[d + i - offset] as number;
    }
    d += match;
  }
  return d;
}
