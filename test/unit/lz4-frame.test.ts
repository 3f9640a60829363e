import { describe, expect, it } from 'vitest';
import { decompressLz4Frame, Lz4FrameError } from '../../src/core/ipc/compression/lz4-frame.js';

// Frames written by real encoders are decoded in ipc-decode.test.ts (arrow-testing's LZ4 files);
// these are small hand-made frames, valid and hostile.

const HEADER = [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x00]; // magic, independent blocks, 64 KiB blocks, HC
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const frame = (...blocks: number[][]) =>
  Uint8Array.from([...HEADER, ...blocks.flatMap((b) => [...u32(b.length), ...b]), ...u32(0)]);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function decode(src: Uint8Array, outBytes: number): Uint8Array {
  const out = new Uint8Array(outBytes);
  return out.subarray(0, decompressLz4Frame(src, out));
}

describe('LZ4 frame decoder', () => {
  it('decodes literals, overlapping matches and uncompressed blocks', () => {
    const abc = [0x35, 0x61, 0x62, 0x63, 0x03, 0x00, 0x10, 0x21]; // "abc", match 3 back × 9, then "!"
    expect(text(decode(frame(abc), 13))).toBe('abcabcabcabc!');
    const stored = Uint8Array.from([...HEADER, ...u32(0x80000003), 0x78, 0x79, 0x7a, ...u32(0)]);
    expect(text(decode(stored, 3))).toBe('xyz');
  });

  it('rejects at once a block size past the frame, however large, without reading past the input', () => {
    for (const size of [100, 0x7fffffff]) {
      const src = Uint8Array.from([...HEADER, ...u32(size), 1, 2, 3]);
      const started = performance.now();
      expect(() => decode(src, 1 << 20)).toThrow(Lz4FrameError);
      expect(performance.now() - started).toBeLessThan(50);
    }
  });

  it('rejects matches that point before the data, lengths that run past the block, and output overflow', () => {
    const cases: Array<[string, number[], number]> = [
      ['offset 0', [0x10, 0x61, 0x00, 0x00], 64],
      ['offset before the data', [0x10, 0x61, 0x05, 0x00], 64],
      ['literal run past the block', [0xf0, 0xff, 0xff], 1 << 20],
      ['literals past the block', [0x50, 0x61], 64],
      ['literals over the output', [0x30, 0x61, 0x62, 0x63], 2],
      ['match over the output', [0x1f, 0x61, 0x01, 0x00, 0xff, 0xff, 0x10], 64],
    ];
    for (const [what, block, outBytes] of cases) {
      expect(() => decode(frame(block), outBytes), what).toThrow(Lz4FrameError);
    }
  });

  it('rejects a frame without the LZ4 magic, with reserved flags, or cut inside its header', () => {
    expect(() => decode(Uint8Array.from([1, 2, 3, 4, 0x60, 0x40, 0, 0, 0, 0, 0]), 8)).toThrow(/magic/);
    expect(() => decode(Uint8Array.from([...HEADER.slice(0, 4), 0x62, 0x40, 0, 0, 0, 0, 0]), 8)).toThrow(
      /flags/,
    );
    expect(() => decode(Uint8Array.from(HEADER.slice(0, 5)), 8)).toThrow(/past the frame/);
  });
});
