/**
 * Appends Arrow validity bitmaps (LSB-first bytes, any bit offset) to a column-wide bitmap of u32 words.
 *
 * Batches rarely start on a 32-row boundary, so the last, partial word is kept here and re-emitted
 * with the next batch's bits: the next upload overwrites that word on the GPU with its complete value.
 */
export class ValidityPacker {
  /** Rows appended so far. */
  rows = 0;
  #partial = 0;

  /** Index of the first word the next `append` emits. */
  get nextWord(): number {
    return this.rows >>> 5;
  }

  /** Number of words that appending `count` rows emits. */
  wordsFor(count: number): number {
    return count === 0 ? 0 : ((this.rows & 31) + count + 31) >>> 5;
  }

  /**
   * Appends `count` rows whose bits start at bit `bitOffset` of `bitmap` (`null`: all valid) and writes
   * the affected words, starting with word `nextWord`, into `out` (length ≥ `wordsFor(count)`).
   */
  append(bitmap: Uint8Array | null, bitOffset: number, count: number, out: Uint32Array): number {
    const words = this.wordsFor(count);
    if (words === 0) return 0;
    const shift = this.rows & 31;
    let src = -shift; // bit of the source that lands on bit 0 of the current word
    for (let w = 0; w < words; w++, src += 32) {
      let word = bitmap === null ? 0xffffffff : readBits32(bitmap, bitOffset + src);
      if (w === 0 && shift > 0) {
        word = (word & ~((1 << shift) - 1)) | this.#partial;
      }
      const end = count + shift - w * 32; // rows of this word that exist
      if (end < 32) word &= (1 << end) - 1;
      out[w] = word >>> 0;
    }
    this.rows += count;
    this.#partial = (this.rows & 31) === 0 ? 0 : (out[words - 1] as number);
    return words;
  }
}

/** 32 bits of `bitmap` starting at `bit` (which may be negative; bits outside read as 0). */
function readBits32(bitmap: Uint8Array, bit: number): number {
  if (bit < 0) return bit <= -32 ? 0 : readBits32(bitmap, 0) << -bit;
  const byte = bit >>> 3;
  const shift = bit & 7;
  const b0 = bitmap[byte] ?? 0;
  const b1 = bitmap[byte + 1] ?? 0;
  const b2 = bitmap[byte + 2] ?? 0;
  const b3 = bitmap[byte + 3] ?? 0;
  const low = (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> shift;
  if (shift === 0) return low >>> 0;
  const b4 = bitmap[byte + 4] ?? 0;
  return (low | (b4 << (32 - shift))) >>> 0;
}
