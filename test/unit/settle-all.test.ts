import { describe, expect, it } from 'vitest';
import { settleAll } from '../../src/core/gpu/settle-all.js';

describe('settleAll', () => {
  it('waits for every answer, then rejects with the first failure in order', async () => {
    const settledAt: string[] = [];
    const late = (name: string, ms: number, fail = false) =>
      new Promise<void>((resolve, reject) =>
        setTimeout(() => {
          settledAt.push(name);
          fail ? reject(new Error(name)) : resolve();
        }, ms),
      );
    await expect(settleAll([late('a', 5), late('b', 1, true), late('c', 10, true)])).rejects.toThrow('b');
    expect(settledAt).toEqual(['b', 'a', 'c']);
    await expect(settleAll([late('d', 1)])).resolves.toBeUndefined();
  });

  it('throws at once what starting the work throws, and stops there; the answers taken are handled', () => {
    let started = 0;
    function* work(): Generator<Promise<void>> {
      started++;
      yield Promise.reject(new Error('refused later'));
      started++;
      throw new RangeError('over the limit');
    }
    // An unhandled rejection of the first answer would fail the run.
    expect(() => settleAll(work())).toThrow(RangeError);
    expect(started).toBe(2);
  });
});
