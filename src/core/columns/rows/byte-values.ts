import { type Data, type DataType, makeData, Type } from 'apache-arrow';
import { LimitError } from '../../errors.js';

/** Whether `type` holds byte strings: text or binary, with 32-bit, 64-bit offsets or views. */
export function isByteType(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView:
      return true;
    default:
      return false;
  }
}

/**
 * Arrow data of a text or binary `type` holding `values` (their bytes; `null` for a null entry),
 * laid out as the type wants: offsets and bytes, or 16-byte views with one data buffer.
 */
export function byteData(type: DataType, values: ReadonlyArray<Uint8Array | null>, column: string): Data {
  const { nullBitmap, nullCount } = bitmapOf(values);
  const length = values.length;
  const total = values.reduce((n, v) => n + (v?.length ?? 0), 0);
  if (type.typeId === Type.Utf8View || type.typeId === Type.BinaryView) {
    return viewData(type, values, nullBitmap, nullCount);
  }
  const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
  if (!large && total > 2 ** 31 - 1) {
    throw new LimitError(
      `The rows of column ${JSON.stringify(column)} hold ${total} bytes, more than a ${String(type)} column's 2^31 - 1`,
      { column, arrowType: String(type), expected: 2 ** 31 - 1, actual: total },
    );
  }
  const data = new Uint8Array(total);
  const offsets = large ? new BigInt64Array(length + 1) : new Int32Array(length + 1);
  let at = 0;
  for (const [i, value] of values.entries()) {
    if (value) data.set(value, at);
    at += value?.length ?? 0;
    if (large) (offsets as BigInt64Array)[i + 1] = BigInt(at);
    else (offsets as Int32Array)[i + 1] = at;
  }
  return makeData({ type, length, nullCount, nullBitmap, valueOffsets: offsets, data } as never);
}

/** Views of 16 bytes: length, then the value itself when it fits 12 bytes, else its prefix and place. */
function viewData(
  type: DataType,
  values: ReadonlyArray<Uint8Array | null>,
  nullBitmap: Uint8Array | undefined,
  nullCount: number,
): Data {
  const views = new Uint8Array(values.length * 16);
  const ints = new DataView(views.buffer);
  const long = values.reduce((n, v) => n + (v && v.length > 12 ? v.length : 0), 0);
  const buffer = new Uint8Array(long);
  let at = 0;
  for (const [i, value] of values.entries()) {
    if (!value) continue;
    const view = i * 16;
    ints.setInt32(view, value.length, true);
    if (value.length <= 12) {
      views.set(value, view + 4);
      continue;
    }
    views.set(value.subarray(0, 4), view + 4);
    ints.setInt32(view + 8, 0, true);
    ints.setInt32(view + 12, at, true);
    buffer.set(value, at);
    at += value.length;
  }
  return makeData({
    type,
    length: values.length,
    nullCount,
    nullBitmap,
    views,
    variadicBuffers: long > 0 ? [buffer] : [],
  } as never);
}

/** A validity bitmap with a bit set for each non-null entry; none when every entry is there. */
function bitmapOf(values: ReadonlyArray<unknown>): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (const [i, value] of values.entries()) {
    if (value === null) nullCount++;
    else bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  }
  return { nullBitmap: nullCount > 0 ? bitmap : undefined, nullCount };
}
