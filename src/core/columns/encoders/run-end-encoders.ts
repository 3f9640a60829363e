import type { Data } from 'apache-arrow';
import { RunEnds } from '../run-ends.js';
import { ValidityPacker } from '../validity-packer.js';
import type { ColumnEncoder, ColumnExtras, FixedWidthEncoder } from './column-encoder.js';

/** The bits of a run of false values: bits past the end of a bitmap read as 0. */
const NO_BITS = new Uint8Array(0);

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
    const lastRun = runs.runOf(first + count - 1);
    const k = lastRun - firstRun + 1;
    const tail = (count - k) * c;
    this.inner.encode(runs.values, firstRun, k, out.subarray(tail, count * c));
    const value = this.#value;
    runs.forEach(first, count, (run, from, to) => {
      const at = tail + (run - firstRun) * c;
      if (c === 1) {
        out.fill(out[at] as number, from, to);
        return;
      }
      for (let w = 0; w < c; w++) value[w] = out[at + w] as number;
      for (let row = from; row < to; row++) out.set(value, row * c);
    });
  }

  advance(): void {
    throw new Error('run-end encoded columns are always encoded');
  }

  describe(): ColumnExtras {
    return this.inner.describe();
  }
}

/** A RunEndEncoded column of Bool values as `bool` words: each run's bit, repeated over its rows. */
export class RunEndBitEncoder implements ColumnEncoder {
  readonly #packer = new ValidityPacker();

  get nextWord(): number {
    return this.#packer.nextWord;
  }

  wordsFor(count: number): number {
    return this.#packer.wordsFor(count);
  }

  rawBytes(): null {
    return null;
  }

  encode(data: Data, first: number, count: number, out: Uint32Array): void {
    const runs = new RunEnds(data);
    const bits = runs.values.values as Uint8Array;
    const offset = runs.values.offset;
    const base = this.#packer.nextWord;
    runs.forEach(first, count, (run, from, to) => {
      const bit = offset + run;
      const set = (((bits[bit >> 3] as number) >> (bit & 7)) & 1) === 1;
      this.#packer.append(set ? null : NO_BITS, 0, to - from, out.subarray(this.#packer.nextWord - base));
    });
  }

  advance(): void {
    throw new Error('bool columns are always encoded');
  }

  describe(): ColumnExtras {
    return {};
  }
}
