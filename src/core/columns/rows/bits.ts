/**
 * Copies `count` bits from bit `from` of `src` to bit `to` of `dst`, least significant bit first (the
 * order of Arrow bitmaps, and of the GPU's validity and `bool` words read as bytes). `dst`'s bits in
 * that range must be 0: only ones are written.
 */
export function copyBits(src: Uint8Array, from: number, dst: Uint8Array, to: number, count: number): void {
  let i = 0;
  // Both sides on a byte boundary: whole bytes at once (a range read from a row that is a multiple of 8).
  if ((from & 7) === 0 && (to & 7) === 0) {
    const bytes = count >> 3;
    dst.set(src.subarray(from >> 3, (from >> 3) + bytes), to >> 3);
    i = bytes << 3;
  }
  for (; i < count; i++) {
    const bit = from + i;
    if (((src[bit >> 3] as number) >> (bit & 7)) & 1) {
      const at = to + i;
      dst[at >> 3] = (dst[at >> 3] as number) | (1 << (at & 7));
    }
  }
}

/** Set bits among the first `count` bits of `bitmap`. */
export function countBits(bitmap: Uint8Array, count: number): number {
  let set = 0;
  const whole = count >> 3;
  for (let i = 0; i < whole; i++) set += BYTE_BITS[bitmap[i] as number] as number;
  for (let bit = whole << 3; bit < count; bit++) set += ((bitmap[bit >> 3] as number) >> (bit & 7)) & 1;
  return set;
}

/** Set bits of each byte value. */
const BYTE_BITS = Uint8Array.from({ length: 256 }, (_, v) => {
  let n = 0;
  for (let b = v; b !== 0; b &= b - 1) n++;
  return n;
});

/** The bytes of a word array (the GPU's words, little-endian as every WebGPU host is). */
export function bytesOf(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}
