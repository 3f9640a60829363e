import type { Data } from 'apache-arrow';
import { FixedWidthEncoder, rowBytes } from './column-encoder.js';

/** `bytes`: each FixedSizeBinary value's bytes in order, zero-padded to whole words. */
export class BytesEncoder extends FixedWidthEncoder {
  readonly #width: number;

  constructor(byteWidth: number) {
    super(Math.ceil(byteWidth / 4));
    this.#width = byteWidth;
  }

  override rawBytes(data: Data, first: number, count: number): Uint8Array | null {
    return this.#width % 4 === 0 ? rowBytes(data, first, count) : null;
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    const source = rowBytes(data, first, count);
    const target = new Uint8Array(out.buffer, out.byteOffset, count * this.components * 4);
    const stride = this.components * 4;
    target.fill(0);
    for (let i = 0; i < count; i++) {
      target.set(source.subarray(i * this.#width, (i + 1) * this.#width), i * stride);
    }
  }
}

/** `null`: no words at all; the column is all nulls (its validity says so). */
export class NullEncoder extends FixedWidthEncoder {
  constructor() {
    super(0);
  }

  protected write(): void {}
}

/**
 * `vector`: FixedSizeList rows as `listSize` components side by side, each in its element's encoding
 * (a Bool element as one u32, 0 or 1).
 */
export class VectorEncoder extends FixedWidthEncoder {
  readonly #listSize: number;
  readonly #element: FixedWidthEncoder | null;

  /** `element` encodes the child values; `null` for Bool children. */
  constructor(listSize: number, element: FixedWidthEncoder | null, wordsPerElement: number) {
    super(listSize * wordsPerElement);
    this.#listSize = listSize;
    this.#element = element;
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    const child = data.children[0] as Data;
    // apache-arrow slices a fixed-size list's child with it: the child's row 0 is this data's row 0.
    const childFirst = first * this.#listSize;
    const childCount = count * this.#listSize;
    if (this.#element) {
      this.#element.encode(child, childFirst, childCount, out);
      return;
    }
    const bits = child.values as Uint8Array;
    for (let i = 0; i < childCount; i++) {
      const bit = child.offset + childFirst + i;
      out[i] = ((bits[bit >> 3] as number) >> (bit & 7)) & 1;
    }
  }
}
