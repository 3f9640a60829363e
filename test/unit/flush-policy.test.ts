import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FLUSH_INTERVAL_MS, FlushPolicy } from '../../src/core/pipeline/flush-policy.js';

/** Batches appended at increasing times, each saying whether a submit then would stall. */
const appends = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 20 }), stall: fc.boolean() }), {
  minLength: 1,
  maxLength: 80,
});

describe('FlushPolicy.afterBatch', () => {
  it('submits the first batch at once, then once an interval has passed since the last submit and a staging buffer is free', () => {
    fc.assert(
      fc.property(appends, (batches) => {
        const policy = new FlushPolicy();
        let now = performance.now();
        policy.flushed(now);
        let last = now;
        batches.forEach(({ gap, stall }, i) => {
          now += gap;
          const submit = policy.afterBatch(now, stall);
          const due = now - last >= FLUSH_INTERVAL_MS && !stall;
          expect(submit, `batch ${i} at +${now - last} ms, stall ${stall}`).toBe(i === 0 || due);
          if (submit) {
            policy.flushed(now);
            last = now;
          }
        });
      }),
    );
  });

  it('a policy that is not prompt decides the same whether or not a batch comes alone', () => {
    fc.assert(
      fc.property(appends, fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }), (batches, alone) => {
        const told = new FlushPolicy();
        const plain = new FlushPolicy();
        const now = performance.now();
        told.flushed(now);
        plain.flushed(now);
        let t = now;
        batches.forEach(({ gap, stall }, i) => {
          t += gap;
          const submit = told.afterBatch(t, stall, alone[i]);
          expect(submit, `batch ${i}`).toBe(plain.afterBatch(t, stall));
          if (submit) {
            told.flushed(t);
            plain.flushed(t);
          }
        });
      }),
    );
  });

  it('a prompt policy submits every batch that comes alone at once, stall or not, and batches that come back to back an interval apart as before', () => {
    const batchesAlone = fc.array(
      fc.record({ gap: fc.integer({ min: 0, max: 20 }), stall: fc.boolean(), alone: fc.boolean() }),
      { minLength: 1, maxLength: 80 },
    );
    fc.assert(
      fc.property(batchesAlone, (batches) => {
        const policy = new FlushPolicy(true);
        let now = performance.now();
        policy.flushed(now);
        let last = now;
        batches.forEach(({ gap, stall, alone }, i) => {
          now += gap;
          const submit = policy.afterBatch(now, stall, alone);
          const due = now - last >= FLUSH_INTERVAL_MS && !stall;
          expect(submit, `batch ${i} at +${now - last} ms, stall ${stall}, alone ${alone}`).toBe(
            i === 0 || alone || due,
          );
          if (submit) {
            policy.flushed(now);
            last = now;
          }
        });
      }),
    );
  });

  it('a stall only defers the submit: the first batch after the GPU frees a buffer submits, however long it was held', () => {
    const policy = new FlushPolicy();
    const t0 = performance.now();
    policy.flushed(t0);
    expect(policy.afterBatch(t0, true)).toBe(true); // the first batch
    policy.flushed(t0);
    for (let k = 1; k <= 10; k++) expect(policy.afterBatch(t0 + k * FLUSH_INTERVAL_MS, true)).toBe(false);
    expect(policy.afterBatch(t0 + 11 * FLUSH_INTERVAL_MS, false)).toBe(true);
  });
});
