import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderApart, orderFor, runOrder } from '../../bench/run-order.js';

/** Repetitions after which the design is balanced. */
const cycle = (count: number) => (count % 2 ? 2 * count : count);

describe("the benchmark's run order", () => {
  it('runs every variant once in each repetition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.nat(100), (count, rep) => {
        expect([...runOrder(count, rep)].sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
      }),
    );
  });

  it('puts each variant at each position equally often over a cycle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), (count) => {
        const at: number[][] = Array.from({ length: count }, () => new Array<number>(count).fill(0));
        for (let rep = 0; rep < cycle(count); rep++) {
          const order = runOrder(count, rep);
          for (let position = 0; position < count; position++) {
            const row = at[order[position] as number] as number[];
            row[position] = (row[position] as number) + 1;
          }
        }
        const times = cycle(count) / count;
        for (const row of at) expect(row).toEqual(new Array(count).fill(times));
      }),
    );
  });

  it('runs each variant right after each other one equally often over a cycle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 24 }), (count) => {
        const after = new Map<string, number>();
        for (let rep = 0; rep < cycle(count); rep++) {
          const order = runOrder(count, rep);
          for (let i = 1; i < count; i++) {
            const pair = `${order[i - 1]}→${order[i]}`;
            after.set(pair, (after.get(pair) ?? 0) + 1);
          }
        }
        // Every ordered pair of distinct variants, and each as often: once, or twice for an odd count.
        expect(after.size).toBe(count * (count - 1));
        expect(new Set(after.values())).toEqual(new Set([cycle(count) / count]));
      }),
    );
  });

  it('changes which variant runs before a given one from one repetition to the next', () => {
    const variants = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const before = (rep: number) => {
      const order = orderFor(variants, rep);
      return order[order.indexOf('d') - 1];
    };
    const seen = new Set([0, 1, 2, 3, 4].map(before));
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });

  it('runs each variant once, those set apart after all the others', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 20 }), fc.nat(100), (items, rep) => {
        const last = (item: string) => item.startsWith('n');
        const order = orderApart(items, rep, last);
        const rest = items.filter((item) => !last(item)).length;
        expect([...order].sort()).toEqual([...items].sort());
        expect(order.slice(0, rest).some(last)).toBe(false);
        expect(order.slice(rest).every(last)).toBe(true);
      }),
    );
  });
});
