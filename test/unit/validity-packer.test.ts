import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidityPacker } from '../../src/core/columns/validity-packer.js';

/** Applies the packer's word writes to a plain array, as the GPU buffer would see them. */
function pack(batches: Array<{ bits: boolean[] | null; offset: number }>): Uint32Array {
  const packer = new ValidityPacker();
  const total = batches.reduce((n, b) => n + (b.bits ? b.bits.length - b.offset : 0), 0);
  const words = new Uint32Array(Math.ceil(total / 32) + 1);
  for (const { bits, offset } of batches) {
    if (!bits) continue;
    const count = bits.length - offset;
    const bitmap = new Uint8Array(Math.ceil(bits.length / 8) + 1);
    bits.forEach((valid, i) => {
      if (valid) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
    });
    // Garbage beyond the batch's bits must not leak into the packed words.
    bitmap[bitmap.length - 1] = (bitmap[bitmap.length - 1] as number) | (0xff << (bits.length & 7 || 8));
    const out = new Uint32Array(packer.wordsFor(count));
    const first = packer.nextWord;
    const written = packer.append(bitmap, offset, count, out);
    expect(written).toBe(out.length);
    words.set(out, first);
  }
  return words;
}

function reference(batches: Array<{ bits: boolean[] | null; offset: number }>): Uint32Array {
  const all = batches.flatMap((b) => (b.bits ? b.bits.slice(b.offset) : []));
  const words = new Uint32Array(Math.ceil(all.length / 32) + 1);
  all.forEach((valid, i) => {
    if (valid) words[i >> 5] = ((words[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  });
  return words;
}

describe('ValidityPacker', () => {
  it('packs batches of any length and bit offset into the same words as a per-row reference', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc
            .record({ bits: fc.array(fc.boolean(), { minLength: 1, maxLength: 150 }), offset: fc.nat(7) })
            .map((b) => ({
              bits: b.bits,
              offset: Math.min(b.offset, b.bits.length - 1),
            })),
          { minLength: 1, maxLength: 12 },
        ),
        (batches) => {
          expect([...pack(batches)]).toEqual([...reference(batches)]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('treats a missing bitmap as all rows valid and keeps the partial word across batches', () => {
    const packer = new ValidityPacker();
    const out = new Uint32Array(2);
    expect(packer.append(null, 0, 5, out)).toBe(1);
    expect(out[0]).toBe(0b11111);
    expect(packer.nextWord).toBe(0);
    expect(packer.append(Uint8Array.of(0b10), 0, 3, out)).toBe(1);
    expect(out[0]).toBe(0b01011111);
    expect(packer.rows).toBe(8);
  });
});
