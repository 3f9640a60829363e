import type { Data } from 'apache-arrow';
import { RunEnds } from '../run-ends.js';
import type { ColumnEncoder, ColumnExtras, FixedWidthEncoder } from './column-encoder.js';

/** Rows from which filling a run of one-word values is left to `fill` (below, a loop is faster). */
const FILL_FROM = 16;

/**
 * A RunEndEncoded column expanded to one value a row, in the words its values' type gets as a plain
 * column. `encode` takes the array (the struct of `run_ends` and `values`): the values of the runs a
 * piece of rows covers are encoded once, by the values' own encoder, into the end of the piece's
 * output, then spread over their rows front to back in the same memory. A run's value lies at or after
 * its last row there (each later run has a row of its own), so it is read before anything overwrites
 * it: the one pass over the output is the only copy.
 */
export class RunEndEncoder implements ColumnEncoder {
  /** The values' encoder, which also keeps what the column needs (a dictionary, an offset). */
  readonly inner: FixedWidthEncoder;
  readonly #value: Uint32Array;
  /** Where each run of a piece ends in it (reused from piece to piece). */
  #stops = new Int32Array(64);
  #rows = 0;

  constructor(inner: FixedWidthEncoder) {
    this.inner = inner;
    this.#value = new Uint32Array(inner.components);
  }

  get nextWord(): number {
    return this.#rows * this.inner.components;
  }

  wordsFor(count: number): number {
    return count * this.inner.components;
  }

  rawBytes(): null {
    return null;
  }

  encode(data: Data, first: number, count: number, out: Uint32Array): void {
    const c = this.inner.components;
    this.#rows += count;
    if (count === 0 || c === 0) return;
    const runs = new RunEnds(data);
    const firstRun = runs.runOf(first);
    const k = runs.runOf(first + count - 1) - firstRun + 1;
    const tail = (count - k) * c;
    this.inner.encode(runs.values, firstRun, k, out.subarray(tail, count * c));
    const stops = this.#stopsOf(runs, firstRun, k, first, count);
    if (c === 1) spreadWords(out, stops, k, tail);
    else if (c === 2) spreadPairs(out, stops, k, tail);
    else spreadValues(out, stops, k, tail, this.#value);
  }

  advance(): void {
    throw new Error('run-end encoded columns are always encoded');
  }

  describe(): ColumnExtras {
    return this.inner.describe();
  }

  /** Where each of the `k` runs from `firstRun` ends among rows `[first, first + count)`, from 0. */
  #stopsOf(runs: RunEnds, firstRun: number, k: number, first: number, count: number): Int32Array {
    if (this.#stops.length < k) this.#stops = new Int32Array(Math.max(k, this.#stops.length * 2));
    const stops = this.#stops;
    const start = runs.offset + first;
    const ends = runs.ends;
    for (let j = 0; j < k - 1; j++) stops[j] = Number(ends[firstRun + j]) - start;
    stops[k - 1] = count; // the last run goes on past the piece
    return stops;
  }
}

/** One word a row: run `j`'s word, at `tail + j`, over its rows up to `stops[j]`. */
function spreadWords(out: Uint32Array, stops: Int32Array, k: number, tail: number): void {
  for (let j = 0, from = 0; j < k; j++) {
    const to = stops[j] as number;
    const value = out[tail + j] as number;
    if (to - from >= FILL_FROM) out.fill(value, from, to);
    else for (let row = from; row < to; row++) out[row] = value;
    from = to;
  }
}

/** Two words a row (64-bit values): run `j`'s pair at `tail + 2j`. */
function spreadPairs(out: Uint32Array, stops: Int32Array, k: number, tail: number): void {
  for (let j = 0, from = 0; j < k; j++) {
    const to = stops[j] as number;
    const lo = out[tail + 2 * j] as number;
    const hi = out[tail + 2 * j + 1] as number;
    for (let row = from; row < to; row++) {
      out[2 * row] = lo;
      out[2 * row + 1] = hi;
    }
    from = to;
  }
}

/** `value.length` words a row: run `j`'s value at `tail + j * value.length`, copied out first. */
function spreadValues(
  out: Uint32Array,
  stops: Int32Array,
  k: number,
  tail: number,
  value: Uint32Array,
): void {
  const c = value.length;
  for (let j = 0, from = 0; j < k; j++) {
    const to = stops[j] as number;
    for (let w = 0; w < c; w++) value[w] = out[tail + j * c + w] as number;
    for (let row = from; row < to; row++) for (let w = 0; w < c; w++) out[row * c + w] = value[w] as number;
    from = to;
  }
}

/**
 * A RunEndEncoded column of Bool values as `bool` words (32 rows a word, Arrow's bit order): each run's
 * bit set over its rows a word at a time. As with plain `bool` columns, a batch's last, partial word is
 * written again, completed, with the next one.
 */
export class RunEndBitEncoder implements ColumnEncoder {
  #rows = 0;
  /** The bits of the rows in the partial word `nextWord` (0 when there is none). */
  #partial = 0;

  get nextWord(): number {
    return this.#rows >>> 5;
  }

  wordsFor(count: number): number {
    return count === 0 ? 0 : ((this.#rows & 31) + count + 31) >>> 5;
  }

  rawBytes(): null {
    return null;
  }

  encode(data: Data, first: number, count: number, out: Uint32Array): void {
    const words = this.wordsFor(count);
    if (words === 0) return;
    out.fill(0, 0, words);
    out[0] = this.#partial;
    const shift = this.#rows & 31;
    const runs = new RunEnds(data);
    const bits = runs.values.values as Uint8Array;
    const { ends, offset } = runs;
    const start = offset + first;
    const end = start + count;
    for (let run = runs.runOf(first), from = start; from < end; run++) {
      const to = Math.min(Number(ends[run]), end);
      const bit = runs.values.offset + run;
      if ((((bits[bit >> 3] as number) >> (bit & 7)) & 1) === 1) {
        setBits(out, shift + from - start, shift + to - start);
      }
      from = to;
    }
    this.#rows += count;
    this.#partial = (this.#rows & 31) === 0 ? 0 : (out[words - 1] as number);
  }

  advance(): void {
    throw new Error('bool columns are always encoded');
  }

  describe(): ColumnExtras {
    return {};
  }
}

/** Sets bits `[from, to)` of `words` (bit i is bit i & 31 of word i >> 5). */
function setBits(words: Uint32Array, from: number, to: number): void {
  for (let bit = from; bit < to; ) {
    const word = bit >>> 5;
    const low = bit & 31;
    const high = Math.min(32, low + (to - bit));
    const mask = high === 32 ? ~0 << low : ((1 << high) - 1) & (~0 << low);
    words[word] = ((words[word] as number) | mask) >>> 0;
    bit += high - low;
  }
}
