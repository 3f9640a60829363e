import { type Data, type DataType, type Field, makeData, Type } from 'apache-arrow';
import type { DictionaryValue } from '../encoders/dictionary-encoder.js';
import type { Encoding } from '../encoding.js';
import type { ColumnPlan } from '../type-plan.js';
import { bytesOf, countBits } from './bits.js';
import { dictionaryData } from './dictionary.js';
import { numericValues } from './numbers.js';

/** The selected rows of one column as the GPU holds them, read back and put end to end. */
export interface GatheredColumn {
  plan: ColumnPlan;
  rows: number;
  /** `rows × components` words; for `bool`, one bit a row (32 rows a word). */
  words: Uint32Array;
  /** One bit a row, 1 = valid; `null` when the column has no nulls. */
  validity: Uint32Array | null;
  /** A `f32-relative` column's offset, as an exact decimal string. */
  offset?: string;
  /** A `dictionary` column's values by code, as its encoder keeps them. */
  dictionary?: readonly DictionaryValue[];
}

/**
 * Arrow data of the column's rows, in its schema type (`plan.field`). Exact encodings give back the
 * source values; lossy ones the GPU's value in the source type (see `numericValues`). Validity is the
 * GPU's: a struct child is null where the struct was, a FixedSizeList row where any element was.
 */
export function rebuildColumn(column: GatheredColumn): Data {
  const { plan, rows, words } = column;
  const type = plan.field.type as DataType;
  const nullBitmap = column.validity ? bytesOf(column.validity) : undefined;
  const nullCount = nullBitmap ? rows - countBits(nullBitmap, rows) : 0;
  const common = { type, length: rows, nullCount, nullBitmap };
  switch (plan.encoding) {
    case 'null':
      return makeData({ type, length: rows } as never);
    case 'bool':
      return makeData({ ...common, data: bytesOf(words) } as never);
    case 'dictionary': {
      const valid = (row: number) =>
        !nullBitmap || (((nullBitmap[row >> 3] as number) >> (row & 7)) & 1) === 1;
      const values = column.dictionary ?? [];
      return dictionaryData({ type, codes: words, valid, values, nullBitmap, nullCount, column: plan.name });
    }
    case 'bytes':
      return makeData({ ...common, data: unpad(words, rows, plan.byteWidth as number) } as never);
    case 'interval':
      return makeData({
        ...common,
        data: new Int32Array(words.buffer, words.byteOffset, words.length),
      } as never);
    case 'vector':
      return makeData({ ...common, child: vectorChild(plan, type, words, rows) } as never);
    default:
      return makeData({
        ...common,
        data: numericValues(type, plan.encoding, words, rows, column.offset),
      } as never);
  }
}

/** FixedSizeBinary values from words that pad each to a whole number of words. */
function unpad(words: Uint32Array, rows: number, width: number): Uint8Array {
  const bytes = bytesOf(words);
  const stride = Math.ceil(width / 4) * 4;
  if (stride === width) return bytes;
  const out = new Uint8Array(rows * width);
  for (let i = 0; i < rows; i++) out.set(bytes.subarray(i * stride, i * stride + width), i * width);
  return out;
}

/** The child data of a FixedSizeList column: `listSize` elements a row, each in the element encoding. */
function vectorChild(plan: ColumnPlan, type: DataType, words: Uint32Array, rows: number): Data {
  const child = (type.children[0] as Field).type as DataType;
  const count = rows * (plan.listSize as number);
  if (child.typeId === Type.Bool) {
    // A Bool element is one u32 word, 0 or 1.
    const bits = new Uint8Array(Math.ceil(count / 8));
    for (let i = 0; i < count; i++) if (words[i]) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
    return makeData({ type: child, length: count, nullCount: 0, data: bits } as never);
  }
  const values = numericValues(child, plan.element as Encoding, words, count);
  return makeData({ type: child, length: count, nullCount: 0, data: values } as never);
}
