import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/core/errors.js';
import { checkPredicate, MAX_PREDICATE_DEPTH } from '../../src/core/gpu/query/predicate-check.js';
import type { Predicate } from '../../src/types.js';

// The shape of a predicate, checked without a table: valid ones come back equal (as copies); one fault
// anywhere fails with INVALID_ARGUMENT whose details name its path inside the predicate.

const column = fc.constantFrom('a', 'b', 'point.x', '');
const bound = fc.oneof(fc.double({ noNaN: true }), fc.bigInt());
const value = fc.oneof(fc.double({ noNaN: true }), fc.bigInt(), fc.boolean(), fc.string(), fc.uint8Array());

const { predicate } = fc.letrec<{ predicate: Predicate }>((tie) => ({
  predicate: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.record({ column, range: fc.tuple(bound, bound) }),
      fc.record({ column, in: fc.array(value, { maxLength: 4 }) }),
      fc.record({ column, isNull: fc.boolean() }),
    ),
    fc.record({ and: fc.array(tie('predicate'), { maxLength: 3 }) }),
    fc.record({ or: fc.array(tie('predicate'), { maxLength: 3 }) }),
    fc.record({ not: tie('predicate') }),
  ),
}));

/** Every predicate object inside `p`, with its path, in the order the checker visits them. */
function nodes(p: Predicate, path = ''): Array<{ node: Predicate; path: string }> {
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  const here = [{ node: p, path }];
  if ('and' in p) return [...here, ...p.and.flatMap((q, i) => nodes(q, `${at('and')}[${i}]`))];
  if ('or' in p) return [...here, ...p.or.flatMap((q, i) => nodes(q, `${at('or')}[${i}]`))];
  if ('not' in p) return [...here, ...nodes(p.not, at('not'))];
  return here;
}

/** Ways to break one node, each with the path (below the node's) that the error must name. */
const FAULTS: Array<(node: Record<string, unknown>) => string | null> = [
  (node) => {
    node.bogus = 1;
    return 'bogus';
  },
  (node) => {
    if (!('range' in node)) return null;
    node.range = [1, Number.NaN];
    return 'range';
  },
  (node) => {
    if (!('range' in node)) return null;
    node.range = [1, '2'];
    return 'range';
  },
  (node) => {
    if (!('in' in node)) return null;
    node.in = [...(node.in as unknown[]), null];
    return `in[${(node.in as unknown[]).length - 1}]`;
  },
  (node) => {
    if (!('isNull' in node)) return null;
    node.isNull = 1;
    return 'isNull';
  },
  (node) => {
    if (!('column' in node)) return null;
    node.column = 7;
    return 'column';
  },
  (node) => {
    if (!('and' in node)) return null;
    node.and = 'everything';
    return 'and';
  },
  (node) => {
    if (!('column' in node) || 'isNull' in node) return null;
    node.isNull = true;
    return '';
  },
];

function option(path: string): string {
  return path === '' ? 'predicate' : `predicate.${path}`;
}

describe('checkPredicate', () => {
  it('returns any well-formed predicate unchanged, as a copy of its own', () => {
    fc.assert(
      fc.property(predicate, (p) => {
        const checked = checkPredicate(p);
        expect(checked).toEqual(p);
        if (typeof p === 'object' && Object.keys(p).length > 0) expect(checked).not.toBe(p);
      }),
    );
  });

  it('names the path of one fault anywhere in a predicate', () => {
    fc.assert(
      fc.property(predicate, fc.nat(), fc.nat(FAULTS.length - 1), (p, pick, kind) => {
        const broken = structuredClone(p);
        const all = nodes(broken);
        const { node, path } = all[pick % all.length] as { node: Predicate; path: string };
        const below = (FAULTS[kind] as (typeof FAULTS)[number])(node as Record<string, unknown>);
        fc.pre(below !== null);
        const where = below === '' ? path : path === '' ? (below as string) : `${path}.${below}`;
        let error: unknown = null;
        try {
          checkPredicate(broken);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ArgumentError);
        expect((error as ArgumentError).details.option).toBe(option(where));
        const column = 'column' in node && typeof node.column === 'string' ? node.column : undefined;
        if (column !== undefined && below !== 'bogus')
          expect((error as ArgumentError).details.column).toBe(column);
      }),
    );
  });

  it('names the column and its encoding when a column test is wrong', () => {
    const encodingOf = (name: string) => (name === 'fare' ? 'f64' : undefined);
    expect(() => checkPredicate({ or: [{ column: 'fare', range: [0, 'x'] }] }, encodingOf)).toThrow(
      /or\[0\]\.range .*column "fare" \(f64\), not \[0, "x"\]/,
    );
    expect(() => checkPredicate({ column: 'fare', in: [Number.NaN] }, encodingOf)).toThrow(
      /NaN.*"fare" \(f64\)/,
    );
  });

  it('refuses what is not a predicate, naming why', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [null, 'predicate', /must be an object/],
      [[], 'predicate', /must be an object/],
      [() => true, 'predicate', /a function/],
      [{}, 'predicate', /exactly one of and, or, not; it has none/],
      [{ and: [], or: [] }, 'predicate', /it has and, or/],
      [{ column: 'a' }, 'predicate', /exactly one of range, in, isNull; it has none/],
      [{ column: 'a', range: [0, 1], in: [1] }, 'predicate', /range and in/],
      [{ column: 'a', range: [0, 1, 2] }, 'predicate.range', /\[lo, hi\]/],
      [{ column: 'a', in: 3 }, 'predicate.in', /array of values/],
      [{ column: 'a', in: [{}] }, 'predicate.in[0]', /not \{\}/],
      [{ not: [] }, 'predicate.not', /must be an object/],
    ];
    for (const [value, path, message] of cases) {
      let error: unknown = null;
      try {
        checkPredicate(value);
      } catch (e) {
        error = e;
      }
      expect(error, String(path)).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).details.option).toBe(path);
      expect((error as Error).message).toMatch(message);
    }
  });

  it(`refuses nesting deeper than ${MAX_PREDICATE_DEPTH} levels, and takes that many`, () => {
    const nest = (levels: number): Predicate => {
      let p: Predicate = { column: 'a', isNull: true };
      for (let i = 0; i < levels; i++) p = i % 2 ? { not: p } : { and: [p] };
      return p;
    };
    expect(checkPredicate(nest(MAX_PREDICATE_DEPTH))).toEqual(nest(MAX_PREDICATE_DEPTH));
    expect(() => checkPredicate(nest(MAX_PREDICATE_DEPTH + 1))).toThrow(/deeper than 64/);
  });

  it('copies byte values, so that changing the caller’s array afterwards changes nothing', () => {
    const bytes = new Uint8Array([1, 2]);
    const checked = checkPredicate({ column: 'a', in: [bytes] }) as unknown as { in: Uint8Array[] };
    bytes[0] = 9;
    expect(Array.from(checked.in[0] as Uint8Array)).toEqual([1, 2]);
  });
});
