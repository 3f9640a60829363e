/** 32-bit FNV-1a of `bytes[start, end)`: a cheap, well-spread hash of short strings. */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= bytes[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Whether bit `bit` of an Arrow bitmap is set (LSB first). */
export function bitAt(bitmap: Uint8Array, bit: number): boolean {
  return (((bitmap[bit >> 3] as number) >> (bit & 7)) & 1) === 1;
}
