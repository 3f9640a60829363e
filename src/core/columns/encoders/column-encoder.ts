import type { Data } from 'apache-arrow';

/**
 * Turns a column's Arrow values into its GPU words, batch after batch. Encoders keep what a column
 * needs across batches (a partial `bool` word, the offset of a relative encoding, a dictionary).
 */
export interface ColumnEncoder {
  /** Index of the first word the next `encode` writes (words before it are final). */
  readonly nextWord: number;
  /** Words that encoding `count` more rows writes, starting at `nextWord`. */
  wordsFor(count: number): number;
  /**
   * The source bytes of rows `[first, first + count)` when they are the GPU words as they are (no
   * conversion: the transport copies them straight), else `null`.
   */
  rawBytes(data: Data, first: number, count: number): Uint8Array | null;
  /** Writes the words of rows `[first, first + count)` of `data` into `out` (`wordsFor(count)` long). */
  encode(data: Data, first: number, count: number, out: Uint32Array): void;
  /** Records that rows were written from `rawBytes` instead of `encode`. */
  advance(count: number): void;
  /** What the encoding adds to the column's description (e.g. a relative encoding's offset). */
  describe(): ColumnExtras;
}

/** Per-encoding facts reported with a column. */
export interface ColumnExtras {
  /** `f32-relative`: the value subtracted from every row, as an exact decimal string. */
  offset?: string;
}

/** A typed array of column values, as apache-arrow exposes them. */
export type ValueArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * The values array of a column's data: `stride` elements a row. apache-arrow slices values (and
 * offsets) with the data, so element 0 is the data's first row; only bitmaps go by `data.offset`.
 */
export function valuesOf(data: Data): ValueArray {
  return data.values as ValueArray;
}

/** Bytes of rows `[first, first + count)` of a fixed-width column. */
export function rowBytes(data: Data, first: number, count: number): Uint8Array {
  const values = valuesOf(data);
  const perRow = data.stride * values.BYTES_PER_ELEMENT;
  return new Uint8Array(values.buffer, values.byteOffset + first * perRow, count * perRow);
}

/** Words-per-row encoders: every row takes `components` words, whatever came before. */
export abstract class FixedWidthEncoder implements ColumnEncoder {
  #rows = 0;

  constructor(readonly components: number) {}

  get nextWord(): number {
    return this.#rows * this.components;
  }

  wordsFor(count: number): number {
    return count * this.components;
  }

  rawBytes(_data: Data, _first: number, _count: number): Uint8Array | null {
    return null;
  }

  encode(data: Data, first: number, count: number, out: Uint32Array): void {
    this.write(data, first, count, out);
    this.#rows += count;
  }

  advance(count: number): void {
    this.#rows += count;
  }

  describe(): ColumnExtras {
    return {};
  }

  /** Writes `count * components` words. */
  protected abstract write(data: Data, first: number, count: number, out: Uint32Array): void;
}
