import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSlab } from '../../src/core/source/byte-slab.js';

// A slab hands out small byte arrays one after another from shared buffers: each array is zeroed,
// 8-byte aligned, as long as asked, and never shares a byte with another; an array over the slab's
// limit gets a buffer of its own; a new buffer is made only when the current slab has no room.

const SLAB = 1024;
const MAX = 256;

describe('ByteSlab', () => {
  it('carves zeroed, aligned, disjoint arrays, and allocates a buffer only for a new slab or a large array', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 * MAX }), { maxLength: 80 }), (lengths) => {
        const slab = new ByteSlab(SLAB, MAX);
        const taken: Uint8Array[] = [];
        let expected = 0;
        let room = 0; // bytes left in the current slab, as the rule says
        for (const length of lengths) {
          const bytes = slab.take(length);
          expect(bytes.byteLength).toBe(length);
          expect(bytes.every((b) => b === 0)).toBe(true);
          const aligned = (length + 7) & ~7;
          if (length === 0) {
            expect(bytes.buffer.byteLength).toBe(0);
          } else if (length > MAX) {
            expected++;
            expect(bytes.buffer.byteLength).toBe(length);
          } else {
            if (aligned > room) {
              expected++;
              room = SLAB;
            }
            room -= aligned;
            expect(bytes.byteOffset % 8).toBe(0);
            expect(bytes.buffer.byteLength).toBe(SLAB);
          }
          expect(slab.allocations).toBe(expected);
          bytes.fill(0xff); // a later array that overlapped this one would not be zeroed
          taken.push(bytes);
        }
        for (const [i, a] of taken.entries()) {
          for (const b of taken.slice(i + 1)) {
            if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) continue;
            const apart =
              a.byteOffset + a.byteLength <= b.byteOffset || b.byteOffset + b.byteLength <= a.byteOffset;
            expect(apart).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('fills a slab before it makes the next: 16 arrays of 64 bytes in a 1 KiB slab take one buffer', () => {
    const slab = new ByteSlab(SLAB, MAX);
    const arrays = Array.from({ length: 16 }, () => slab.take(64));
    expect(slab.allocations).toBe(1);
    expect(new Set(arrays.map((a) => a.buffer)).size).toBe(1);
    slab.take(1);
    expect(slab.allocations).toBe(2);
  });
});
