import type { Data } from 'apache-arrow';
import { FixedWidthEncoder, rowBytes } from './column-encoder.js';

/**
 * Values whose Arrow bytes already are their GPU words (32-bit numbers, 64-bit integers and doubles as
 * lo/hi word pairs, decimals, intervals): the transport copies them without a conversion pass.
 */
export class CopyEncoder extends FixedWidthEncoder {
  override rawBytes(data: Data, first: number, count: number): Uint8Array {
    return rowBytes(data, first, count);
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    new Uint8Array(out.buffer, out.byteOffset, count * this.components * 4).set(rowBytes(data, first, count));
  }
}
