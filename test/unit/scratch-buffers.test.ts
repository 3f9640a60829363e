import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_KEPT_BYTES, ScratchBuffers } from '../../src/core/pipeline/pool/scratch-buffers.js';

// A decode worker's scratch buffers: what it is lent back is reused (the smallest that fits), and what
// it keeps while idle stays within six buffers and MAX_KEPT_BYTES (or one buffer, however large).

describe('ScratchBuffers', () => {
  it('reuses a kept buffer that fits, and keeps at most six buffers within the byte cap', () => {
    const size = fc.oneof(
      fc.integer({ min: 1, max: 1 << 20 }),
      fc.integer({ min: 64 << 20, max: 300 << 20 }),
    );
    const op = fc.oneof(fc.record({ acquire: size }), fc.record({ give: fc.nat(10) }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const scratch = new ScratchBuffers();
        const lent: ArrayBuffer[] = [];
        for (const step of ops) {
          if ('acquire' in step) {
            const before = scratch.kept;
            const allocations = scratch.allocations;
            const buffer = scratch.acquire(step.acquire);
            expect(buffer.byteLength).toBeGreaterThanOrEqual(step.acquire);
            // A new buffer only when none kept fits: then nothing kept was taken.
            if (scratch.allocations > allocations) expect(scratch.kept).toBe(before);
            else expect(scratch.kept).toBe(before - 1);
            lent.push(buffer);
          } else if (lent.length > 0) {
            const [buffer] = lent.splice(step.give % lent.length, 1) as [ArrayBuffer];
            scratch.give(buffer);
          }
          expect(scratch.kept).toBeLessThanOrEqual(6);
          if (scratch.kept > 1) expect(scratch.keptBytes).toBeLessThanOrEqual(MAX_KEPT_BYTES);
        }
      }),
      { numRuns: 40 },
    );
  });
});
