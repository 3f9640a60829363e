/** The last `length` bytes of `kept` followed by `next`: a bounded tail of a stream read chunk by chunk. */
export function keepLast(kept: Uint8Array, next: Uint8Array, length: number): Uint8Array {
  if (next.byteLength >= length) return next.slice(next.byteLength - length);
  const fromKept = Math.min(kept.byteLength, length - next.byteLength);
  const out = new Uint8Array(fromKept + next.byteLength);
  out.set(kept.subarray(kept.byteLength - fromKept));
  out.set(next, fromKept);
  return out;
}
