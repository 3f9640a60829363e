/**
 * A seeded xorshift32 generator. The seed is scrambled first (murmur3's finalizer): xorshift's first
 * outputs for small seeds are tiny, so seeds 1, 2, 3… would otherwise all start alike.
 */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x = (x ^ (x >>> 16)) >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * A deterministic mutation of valid IPC bytes: bit flips (biased towards the metadata at the front),
 * overwritten 32/64-bit lengths, truncation, or a duplicated/removed span. Same seed, same bytes.
 */
export function mutate(source: Uint8Array, seed: number): Uint8Array {
  const next = xorshift(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const bytes = source.slice();
  const front = Math.min(bytes.length, 512);
  switch (pick(6)) {
    case 0: {
      const flips = 1 + pick(8);
      for (let i = 0; i < flips; i++) {
        const at = next() < 0.7 ? pick(front) : pick(bytes.length);
        bytes[at] = (bytes[at] as number) ^ (1 << pick(8));
      }
      return bytes;
    }
    case 1: {
      const at = pick(Math.max(1, bytes.length - 8)) & ~3;
      const view = new DataView(bytes.buffer);
      const values = [0, 1, 0x7fffffff, 0xffffffff, 0x80000000, pick(1 << 30)];
      view.setUint32(at, values[pick(values.length)] as number, true);
      return bytes;
    }
    case 2: {
      const at = pick(Math.max(1, bytes.length - 8)) & ~7;
      new DataView(bytes.buffer).setBigInt64(
        at,
        [-1n, 1n << 40n, 1n << 62n, BigInt(pick(1 << 30))][pick(4)] as bigint,
        true,
      );
      return bytes;
    }
    case 3:
      return bytes.subarray(0, pick(bytes.length));
    case 4: {
      const start = pick(bytes.length);
      const end = Math.min(bytes.length, start + 1 + pick(64));
      const out = new Uint8Array(bytes.length - (end - start));
      out.set(bytes.subarray(0, start));
      out.set(bytes.subarray(end), start);
      return out;
    }
    default: {
      for (let i = 0; i < 4 + pick(32); i++) bytes[pick(front)] = pick(256);
      return bytes;
    }
  }
}
