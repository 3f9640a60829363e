import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilDouble, type MaskPlan, type PlanColumn, planMask } from '../../src/core/gpu/query/mask-plan.js';
import type { KeySpace } from '../../src/core/gpu/query/ordered-keys.js';
import type { DictionaryValue, Encoding, Predicate, PredicateValue } from '../../src/types.js';
import { evaluate, type RowValue } from '../support/predicates.js';

// Mask plans on the CPU: a value's key lies in a plan's key intervals exactly when the predicate, as the
// README states it, keeps the value. Keys are computed here from the bits, independently of the library.

const view = new DataView(new ArrayBuffer(8));

/** The ordered key of a double: negatives' bits inverted, positives' with the sign bit set. */
function f64Key(x: number): bigint {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  return bits >> 63n ? ~bits & (2n ** 64n - 1n) : bits | (1n << 63n);
}

/** The ordered key of an f32 (in the low word). */
function f32Key(x: number): bigint {
  view.setFloat32(0, x);
  const bits = view.getUint32(0);
  return BigInt(bits >>> 31 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0);
}

/** Whether a valid row with `key` (NaN or not) is kept by a leaf plan, as the kernel decides. */
function kept(plan: MaskPlan, key: bigint, nan: boolean): boolean {
  if (plan.op === 'all') return true;
  if (plan.op === 'none') return false;
  if (plan.op !== 'match') throw new Error(`a leaf plan, not ${plan.op}`);
  return !nan && plan.intervals.some(([first, last]) => first <= key && key <= last);
}

function column(encoding: Encoding, space: KeySpace, dictionary?: DictionaryValue[]): PlanColumn {
  return {
    name: 'c',
    encoding,
    space,
    nulls: 'some',
    ...(dictionary ? { dictionary: () => dictionary } : {}),
  };
}

const INTEGERS = {
  i32: { domain: 'signed', range: [-(2n ** 31n), 2n ** 31n - 1n] },
  u32: { domain: 'unsigned', range: [0n, 2n ** 32n - 1n] },
  i64: { domain: 'signed', range: [-(2n ** 63n), 2n ** 63n - 1n] },
  u64: { domain: 'unsigned', range: [0n, 2n ** 64n - 1n] },
} as const satisfies Record<string, KeySpace>;

/**
 * Bounds and list values for a value `v`: `v` itself, just beside it (as a number and as a bigint that a
 * double cannot hold, which Number() would round onto it), extremes, and anything.
 */
function around(v: number | bigint): fc.Arbitrary<number | bigint> {
  const finite = typeof v === 'bigint' || Number.isFinite(v);
  const whole = typeof v === 'bigint' ? v : finite ? BigInt(Math.trunc(v)) : 0n;
  return fc.oneof(
    fc.constant(Number.isNaN(v) ? 0 : v),
    fc.constantFrom(whole - 1n, whole + 1n, Number(whole) + 0.5, Number(whole) - 0.5),
    fc.constantFrom(-Infinity, Infinity, 0, -0, 2 ** 53, 2n ** 53n + 1n, -(2n ** 70n)),
    fc.double({ noNaN: true }),
    fc.bigInt(),
  );
}

/** A value of `values` with two bounds or list values around it. */
function withBounds<T extends number | bigint>(values: fc.Arbitrary<T>) {
  return values.chain((v) => fc.tuple(fc.constant(v), around(v), around(v)));
}

function checkLeaf(c: PlanColumn, p: Predicate, v: RowValue, key: bigint, nan: boolean): void {
  const plan = planMask(p, () => c);
  expect(
    kept(plan, key, nan),
    JSON.stringify(p, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)),
  ).toBe(evaluate(p, () => v));
}

describe('mask plans', () => {
  it('f64: range and in keep exactly the doubles the predicate does (NaN, ±Infinity, -0 and bigint bounds)', () => {
    const c = column('f64', { domain: 'f64' });
    fc.assert(
      fc.property(withBounds(fc.double()), ([v, lo, hi]) => {
        checkLeaf(c, { column: 'c', range: [lo, hi] }, v, f64Key(v), Number.isNaN(v));
        checkLeaf(c, { column: 'c', in: [lo, hi] }, v, f64Key(v), Number.isNaN(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('f32 and f32-relative: the value is the f32 plus the offset, added in f64', () => {
    const offsets = fc.constantFrom(0, 1767225600000, -3.5, 1e20, 2 ** -30);
    fc.assert(
      fc.property(fc.float(), offsets, fc.nat(3), fc.double({ noNaN: true }), (f, offset, k, other) => {
        const c = column(offset === 0 ? 'f32' : 'f32-relative', { domain: 'f32', offset });
        const v = f + offset;
        const nan = Number.isNaN(f);
        // Bounds at the value, one f32 step around it, or anywhere.
        const step = [v, v + Math.abs(v) * 2 ** -24, v - 1, other][k] as number;
        const at = Number.isNaN(step) ? other : step;
        checkLeaf(c, { column: 'c', range: [at, other] }, v, f32Key(f), nan);
        checkLeaf(c, { column: 'c', range: [other, at] }, v, f32Key(f), nan);
        checkLeaf(c, { column: 'c', in: [at] }, v, f32Key(f), nan);
      }),
      { numRuns: 2000 },
    );
  });

  for (const [encoding, space] of Object.entries(INTEGERS)) {
    it(`${encoding}: bounds and values of either type compare exactly, out-of-range ones too`, () => {
      const [min, max] = space.range;
      const values = fc.bigInt(min, max);
      const key = (v: bigint) => (space.domain === 'signed' ? v + 2n ** 63n : v);
      const c = column(encoding as Encoding, space);
      fc.assert(
        fc.property(withBounds(values), ([v, lo, hi]) => {
          checkLeaf(c, { column: 'c', range: [lo, hi] }, v, key(v), false);
          const list: PredicateValue[] = [lo, typeof hi === 'bigint' ? Number(hi) : hi];
          checkLeaf(c, { column: 'c', in: list }, v, key(v), false);
        }),
        { numRuns: 1000 },
      );
    });
  }

  it('bool: true/false and 0/1 alike; ranges over 0 and 1', () => {
    const c = column('bool', { domain: 'unsigned', range: [0n, 1n] });
    const bounds = fc.constantFrom<number | bigint>(-1, 0, 0.5, 1, 1n, 2, -Infinity, Infinity);
    const items = fc.constantFrom<PredicateValue>(true, false, 0, 1, 1n, 2, 0.5);
    fc.assert(
      fc.property(fc.boolean(), bounds, bounds, fc.array(items, { maxLength: 3 }), (v, lo, hi, list) => {
        checkLeaf(c, { column: 'c', range: [lo, hi] }, v, v ? 1n : 0n, false);
        checkLeaf(c, { column: 'c', in: list }, v, v ? 1n : 0n, false);
      }),
    );
  });

  it('dictionary: values map to the codes of equal values (1, 1n and 1.0 alike; bytes by content)', () => {
    const dictionary: DictionaryValue[] = ['a', '', 1.5, 7, 2n ** 60n, new Uint8Array([1, 2]), null, 'A'];
    const c = column('dictionary', { domain: 'unsigned', range: [0n, 2n ** 32n - 1n] }, dictionary);
    const items = fc.constantFrom<PredicateValue>(
      'a',
      'A',
      '',
      'b',
      1.5,
      7,
      7n,
      2 ** 60,
      2n ** 60n,
      2n ** 60n + 1n,
      new Uint8Array([1, 2]),
      new Uint8Array([1]),
    );
    fc.assert(
      fc.property(fc.nat(dictionary.length - 2), fc.array(items, { maxLength: 4 }), (code, list) => {
        const v = dictionary[code] as RowValue;
        checkLeaf(c, { column: 'c', in: list }, v, BigInt(code), false);
      }),
    );
  });

  it('folds constants: empty and keeps all, empty or none, not not p is p, null tests of columns without nulls', () => {
    const some = column('f64', { domain: 'f64' });
    const none = { ...some, nulls: 'none' as const };
    const p: Predicate = { column: 'c', range: [0, 1] };
    expect(planMask({ and: [] }, () => some)).toEqual({ op: 'all' });
    expect(planMask({ or: [] }, () => some)).toEqual({ op: 'none' });
    expect(planMask({ not: { not: p } }, () => some)).toEqual(planMask(p, () => some));
    expect(planMask({ column: 'c', isNull: true }, () => none)).toEqual({ op: 'none' });
    expect(planMask({ column: 'c', isNull: false }, () => none)).toEqual({ op: 'all' });
    expect(planMask({ and: [p, { column: 'c', in: [] }] }, () => some)).toEqual({ op: 'none' });
    expect(planMask({ or: [p, { not: { column: 'c', isNull: false } }] }, () => none)).toEqual(
      planMask(p, () => none),
    );
  });

  it('ceilDouble: the smallest double at or above a bigint', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 1100n), max: 2n ** 1100n }), (x) => {
        const d = ceilDouble(x);
        if (Number.isFinite(d)) expect(d >= x).toBe(true);
        else expect(d === Infinity && x > BigInt(Number.MAX_VALUE)).toBe(true);
        // The double just below is below x.
        if (Number.isFinite(d) && d > -Number.MAX_VALUE) {
          view.setFloat64(0, d);
          const bits = view.getBigUint64(0);
          view.setBigUint64(0, d > 0 ? bits - 1n : d < 0 ? bits + 1n : 0x8000000000000001n);
          // A double compares with a bigint exactly.
          expect(view.getFloat64(0) < x).toBe(true);
        }
      }),
    );
  });
});
