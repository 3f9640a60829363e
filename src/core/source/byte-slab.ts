/**
 * Small byte arrays carved one after another from a shared slab, never reused: each slab is collected
 * once none of its arrays is referenced.
 *
 * Why: V8 runs a scavenge for every new ArrayBuffer a thread allocates while its young ArrayBuffers
 * hold more than two semi-spaces (32 MiB in Node). A loader thread always does: mapped staging ranges
 * (16 MiB each) and results moved in from decode workers are young. An ArrayBuffer per message prefix
 * or header chunk then costs a collection per message; carved from a slab, one per slab.
 */
export class ByteSlab {
  readonly #slabBytes: number;
  readonly #maxBytes: number;
  #slab: ArrayBuffer | null = null;
  #used = 0;
  /** Slabs and large arrays allocated so far (each is one ArrayBuffer). */
  allocations = 0;

  /** Slabs of `slabBytes`; an array longer than `maxBytes` gets a buffer of its own. */
  constructor(slabBytes: number, maxBytes = slabBytes >>> 4) {
    this.#slabBytes = slabBytes;
    this.#maxBytes = Math.min(maxBytes, slabBytes);
  }

  /** `length` zeroed bytes, 8-byte aligned in their buffer. */
  take(length: number): Uint8Array {
    if (length === 0) return new Uint8Array(0); // no bytes to carve: no slab needed
    if (length > this.#maxBytes) {
      this.allocations++;
      return new Uint8Array(length);
    }
    const aligned = (length + 7) & ~7;
    if (this.#slab === null || this.#used + aligned > this.#slabBytes) {
      this.allocations++;
      this.#slab = new ArrayBuffer(this.#slabBytes);
      this.#used = 0;
    }
    const bytes = new Uint8Array(this.#slab, this.#used, length);
    this.#used += aligned;
    return bytes;
  }
}

/** The slab that message starts and prefixes, and headers joined from chunks, are carved from on this thread. */
export const messageSlab = new ByteSlab(256 << 10);
