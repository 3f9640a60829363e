import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkPool } from '../../src/core/gpu/remote/chunk-pool.js';

describe('ChunkPool', () => {
  it('keeps at most `max` whole chunks, none between a clear and the next take, and hands back the last one kept first', () => {
    const step = fc.oneof(
      fc.record({ give: fc.constantFrom(64, 64, 64, 32, 0) }),
      fc.constant({ take: true as const }),
      fc.constant({ clear: true as const }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.array(step, { maxLength: 40 }), (max, steps) => {
        const pool = new ChunkPool(64, max);
        const model: ArrayBuffer[] = [];
        let keeping = true;
        for (const s of steps) {
          if ('give' in s) {
            const buffer = new ArrayBuffer(s.give);
            pool.give(buffer);
            // Only whole chunks, only while there is room (a detached buffer has no bytes), and none
            // from a cleared pool until a load takes again.
            if (keeping && s.give === 64 && model.length < max) model.push(buffer);
          } else if ('take' in s) {
            keeping = true;
            expect(pool.take()).toBe(model.pop());
          } else {
            pool.clear();
            model.length = 0;
            keeping = false;
          }
          expect(pool.size).toBe(model.length);
          expect(pool.size).toBeLessThanOrEqual(max);
        }
      }),
    );
  });

  it('refuses a buffer that was transferred away (detached)', () => {
    const pool = new ChunkPool(64, 2);
    const buffer = new ArrayBuffer(64);
    structuredClone(buffer, { transfer: [buffer] });
    pool.give(buffer);
    expect(pool.size).toBe(0);
  });
});
