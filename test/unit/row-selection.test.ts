import { Decimal, Float16, Int32, Int64, Uint64 } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { halfToFloat } from '../../src/core/columns/encoders/float-encoders.js';
import { copyBits, countBits } from '../../src/core/columns/rows/bits.js';
import { floatToHalf } from '../../src/core/columns/rows/half-float.js';
import { numericValues } from '../../src/core/columns/rows/numbers.js';
import {
  maskSelection,
  popcount,
  type RowSelection,
  type RowWindow,
  rangeSelection,
  rowWindows,
  windowGap,
} from '../../src/core/columns/rows/row-selection.js';

// The CPU side of readRows: which rows a mask or a range selects, how runs are grouped into windows,
// bit copies, and what lossy words turn back into. Each is checked against a plain row-by-row version.

/** The rows of a selection, one by one. */
function rowsOf(selection: RowSelection): number[] {
  return selection.runs.flatMap((run) =>
    Array.from({ length: run.end - run.start }, (_, i) => run.start + i),
  );
}

const maskArb = fc.integer({ min: 0, max: 300 }).chain((rows) =>
  fc.record({
    rows: fc.constant(rows),
    words: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), {
      minLength: Math.ceil(rows / 32),
      maxLength: Math.ceil(rows / 32) + 2,
    }),
    offset: fc.integer({ min: 0, max: 320 }),
    limit: fc.integer({ min: 1, max: 320 }),
  }),
);

describe('row selection', () => {
  it('a mask keeps the rows whose bit is set, below numRows, from offset, at most limit', () => {
    fc.assert(
      fc.property(maskArb, ({ rows, words, offset, limit }) => {
        const mask = Uint32Array.from(words);
        const kept = Array.from({ length: rows }, (_, i) => i).filter(
          (i) => (((mask[i >> 5] as number) >>> (i & 31)) & 1) === 1,
        );
        const selection = maskSelection(mask, rows, offset, limit);
        expect(rowsOf(selection)).toEqual(kept.slice(offset, offset + limit));
        expect(selection.rows).toBe(Math.max(0, Math.min(limit, kept.length - offset)));
        // Runs are maximal: none touches the next.
        for (let i = 1; i < selection.runs.length; i++) {
          expect(selection.runs[i]?.start).toBeGreaterThan(selection.runs[i - 1]?.end as number);
        }
      }),
    );
  });

  it('a range is the rows from offset, cut at the end of the table', () => {
    expect(rangeSelection(100, 90, 20)).toEqual({ runs: [{ start: 90, end: 100 }], rows: 10 });
    expect(rangeSelection(100, 100, 20)).toEqual({ runs: [], rows: 0 });
    expect(rangeSelection(100, 0, 5)).toEqual({ runs: [{ start: 0, end: 5 }], rows: 5 });
  });

  it('refuses a mask shorter than the table', () => {
    expect(() => maskSelection(new Uint32Array(1), 33, 0, 10)).toThrow(/2 words, not 1/);
  });

  it('counts the set bits of a word', () => {
    for (const word of [0, 1, 0x80000000, 0xffffffff, 0x12345678, 0xdeadbeef]) {
      expect(popcount(word)).toBe(
        word
          .toString(2)
          .split('')
          .filter((c) => c === '1').length,
      );
    }
  });

  it('windows: at most maxWindows, every run in order in one, merged over the smallest gaps', () => {
    fc.assert(
      fc.property(maskArb, fc.integer({ min: 1, max: 8 }), ({ rows, words }, maxWindows) => {
        const selection = maskSelection(Uint32Array.from(words), rows, 0, 1000);
        const windows = rowWindows(selection, windowGap(selection, maxWindows));
        expect(windows.length).toBeLessThanOrEqual(maxWindows);
        expectWindowsHold(windows, selection);
        // Rows read that were not asked for: at least the smallest gaps that had to be merged, and
        // exactly those unless gaps of the same size tie at the bound.
        const gaps = selection.runs.slice(1).map((run, i) => run.start - (selection.runs[i]?.end as number));
        const merged = windows.reduce((n, w) => n + (w.end - w.start), 0) - selection.rows;
        const smallest = gaps.sort((a, b) => a - b).slice(0, Math.max(0, selection.runs.length - maxWindows));
        const least = smallest.reduce((n, g) => n + g, 0);
        expect(merged).toBeGreaterThanOrEqual(least);
        if (windows.length === Math.min(maxWindows, selection.runs.length)) expect(merged).toBe(least);
      }),
    );
  });

  it('windows: runs at most mergeGap rows apart share one, runs further apart never do', () => {
    fc.assert(
      fc.property(maskArb, fc.integer({ min: 0, max: 40 }), ({ rows, words }, mergeGap) => {
        const selection = maskSelection(Uint32Array.from(words), rows, 0, 1000);
        const windows = rowWindows(selection, mergeGap);
        expectWindowsHold(windows, selection);
        for (const window of windows) {
          for (let i = 1; i < window.runs.length; i++) {
            expect(
              (window.runs[i]?.start as number) - (window.runs[i - 1]?.end as number),
            ).toBeLessThanOrEqual(mergeGap);
          }
        }
        for (let i = 1; i < windows.length; i++) {
          expect((windows[i]?.start as number) - (windows[i - 1]?.end as number)).toBeGreaterThan(mergeGap);
        }
      }),
    );
  });
});

/** Every run of the selection lies in one window, in order, with its place among the rows read. */
function expectWindowsHold(windows: RowWindow[], selection: RowSelection): void {
  expect(windows.flatMap((w) => w.runs.map(({ start, end }) => ({ start, end })))).toEqual(selection.runs);
  let at = 0;
  for (const window of windows) {
    expect(window.start).toBe(window.runs[0]?.start);
    expect(window.end).toBe(window.runs[window.runs.length - 1]?.end);
    for (const run of window.runs) {
      expect(run.at).toBe(at);
      at += run.end - run.start;
    }
  }
}

describe('bits', () => {
  it('copyBits copies any span between any bit positions, as a bit-by-bit copy does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.nat(100),
        fc.nat(100),
        fc.nat(200),
        (src, from, to, n) => {
          const count = Math.max(0, Math.min(n, src.length * 8 - from));
          const dst = new Uint8Array(Math.ceil((to + count) / 8) + 1);
          copyBits(src, from, dst, to, count);
          const want = new Uint8Array(dst.length);
          for (let i = 0; i < count; i++) {
            if (((src[(from + i) >> 3] as number) >> ((from + i) & 7)) & 1) {
              want[(to + i) >> 3] = (want[(to + i) >> 3] as number) | (1 << ((to + i) & 7));
            }
          }
          expect(dst).toEqual(want);
          expect(countBits(dst, dst.length * 8)).toBe(countBits(want, want.length * 8));
        },
      ),
    );
  });
});

describe('lossy words back into their types', () => {
  it('every half float but NaN comes back to its own bits through f32; NaN stays NaN', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfToFloat(bits);
      if (Number.isNaN(value)) {
        if (!Number.isNaN(halfToFloat(floatToHalf(value)))) wrong.push(bits);
      } else if (floatToHalf(Math.fround(value)) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });

  it('floatToHalf rounds to the nearest half (ties to even)', () => {
    fc.assert(
      fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (v) => {
        const f = Math.fround(v);
        const h = floatToHalf(f);
        const got = halfToFloat(h);
        if (!Number.isFinite(got)) {
          expect(Math.abs(f)).toBeGreaterThanOrEqual(65520);
          return;
        }
        for (const neighbour of [h - 1, h + 1]) {
          const other = halfToFloat(neighbour & 0xffff);
          if ((neighbour & 0x8000) !== (h & 0x8000) || Number.isNaN(other)) continue;
          expect(Math.abs(got - f)).toBeLessThanOrEqual(Math.abs(other - f));
        }
      }),
    );
  });

  it('f32 words of integers round and clamp to the type; decimals become the nearest unscaled value', () => {
    const words = Float32Array.of(2 ** 31, -(2 ** 40), 1.5, -2.5);
    const asWords = new Uint32Array(words.buffer);
    expect(Array.from(numericValues(new Int32(), 'f32', asWords, 4) as Int32Array)).toEqual([
      2 ** 31 - 1,
      -(2 ** 31),
      2,
      -2,
    ]);
    const u64 = numericValues(new Uint64(), 'f32', new Uint32Array(Float32Array.of(2 ** 64, -1).buffer), 2);
    expect(Array.from(u64 as BigUint64Array)).toEqual([2n ** 64n - 1n, 0n]);
    const i64 = numericValues(
      new Int64(),
      'f32-relative',
      new Uint32Array(Float32Array.of(3, -4).buffer),
      2,
      '9007199254740993',
    );
    expect(Array.from(i64 as BigInt64Array)).toEqual([9007199254740996n, 9007199254740989n]);
    const decimal = numericValues(
      new Decimal(2, 5, 128),
      'f32',
      new Uint32Array(Float32Array.of(-12.5, 1e9).buffer),
      2,
    );
    // -1250 as four words, two's complement; 1e9 × 100 clamped to the precision's 99999.
    expect(Array.from(decimal as Uint32Array)).toEqual([
      2 ** 32 - 1250,
      2 ** 32 - 1,
      2 ** 32 - 1,
      2 ** 32 - 1,
      99999,
      0,
      0,
      0,
    ]);
    const halves = numericValues(
      new Float16(),
      'f32',
      new Uint32Array(Float32Array.of(1, -2, 65504).buffer),
      3,
    );
    expect(Array.from(halves as Uint16Array)).toEqual([0x3c00, 0xc000, 0x7bff]);
  });
});
