import type { Data } from 'apache-arrow';
import { ValidityPacker } from '../validity-packer.js';
import type { ColumnEncoder, ColumnExtras } from './column-encoder.js';

/**
 * `bool` values: 32 rows a word in Arrow's bit order. A batch rarely ends on a word boundary, so the
 * last, partial word is written again, completed, with the next batch (as validity bitmaps are).
 */
export class BitEncoder implements ColumnEncoder {
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
    this.#packer.append(data.values as Uint8Array, data.offset + first, count, out);
  }

  advance(): void {
    throw new Error('bool columns are always encoded');
  }

  describe(): ColumnExtras {
    return {};
  }
}
