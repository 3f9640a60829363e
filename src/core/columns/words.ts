/** WebGPU copy offsets and sizes must be multiples of 4 bytes. */
export const COPY_ALIGNMENT = 4;

/** Bytes of one GPU word: every encoding is made of 32-bit words. */
export const WORD_BYTES = 4;

/** Rounds `n` up to a multiple of `alignment` (a power of two). */
export function alignUp(n: number, alignment: number = COPY_ALIGNMENT): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Number of u32 words that hold `rows` bits (validity, or `bool` values). */
export function validityWordCount(rows: number): number {
  return Math.ceil(rows / 32);
}
