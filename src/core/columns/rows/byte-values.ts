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
 * Byte values by row: row `i` holds `values[codes[i]]` (`values[i]` without codes), or is null where
 * `nullBitmap` says so (then its value is not read).
 */
export interface ByteRows {
  length: number;
  values: ReadonlyArray<Uint8Array | null>;
  codes?: Uint32Array;
  nullBitmap: Uint8Array | undefined;
  nullCount: number;
}

/** Row `i`'s value, or `null`. */
function valueAt(rows: ByteRows, i: number): Uint8Array | null {
  const { nullBitmap, codes } = rows;
  if (nullBitmap && (((nullBitmap[i >> 3] as number) >> (i & 7)) & 1) === 0) return null;
  return rows.values[codes ? (codes[i] as number) : i] ?? null;
}

/**
 * Arrow data of a text or binary `type` holding `rows`' values, laid out as the type wants: offsets
 * and bytes, or 16-byte views with one data buffer. `column` names the column in errors.
 */
export function byteData(type: DataType, rows: ByteRows, column: string): Data {
  const { length, nullBitmap, nullCount } = rows;
  if (type.typeId === Type.Utf8View || type.typeId === Type.BinaryView) return viewData(type, rows);
  const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
  // Offsets first (they give the bytes' total), then each value copied once to its offset.
  const ends = large ? new Float64Array(length + 1) : new Int32Array(length + 1);
  let total = 0;
  for (let i = 0; i < length; i++) {
    total += valueAt(rows, i)?.length ?? 0;
    if (!large && total > 2 ** 31 - 1) throw tooLong(type, column, total);
    ends[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < length; i++) {
    const bytes = valueAt(rows, i);
    if (bytes) put(data, ends[i] as number, bytes);
  }
  const valueOffsets = large ? BigInt64Array.from(ends, (o) => BigInt(o)) : ends;
  return makeData({ type, length, nullCount, nullBitmap, valueOffsets, data } as never);
}

function tooLong(type: DataType, column: string, total: number): LimitError {
  return new LimitError(
    `The rows of column ${JSON.stringify(column)} hold more than ${2 ** 31 - 1} bytes, a ${String(type)} column's most`,
    { column, arrowType: String(type), expected: 2 ** 31 - 1, actual: total },
  );
}

/** Copies `bytes` into `data` at `at`; returns the end. Short values byte by byte (cheaper than `set`). */
function put(data: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 16) data.set(bytes, at);
  else for (let j = 0; j < n; j++) data[at + j] = bytes[j] as number;
  return at + n;
}

/** The rows of a list of values, `null` entries null. */
export function byteRowsOf(values: ReadonlyArray<Uint8Array | null>): ByteRows {
  let nullCount = 0;
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) nullCount++;
    else bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  }
  return { length: values.length, values, nullBitmap: nullCount > 0 ? bitmap : undefined, nullCount };
}

/** Views of 16 bytes: length, then the value itself when it fits 12 bytes, else its prefix and place. */
function viewData(type: DataType, rows: ByteRows): Data {
  const { length, nullBitmap, nullCount } = rows;
  const value = (i: number) => valueAt(rows, i);
  const views = new Uint8Array(length * 16);
  const ints = new DataView(views.buffer);
  let long = 0;
  for (let i = 0; i < length; i++) {
    const n = value(i)?.length ?? 0;
    if (n > 12) long += n;
  }
  const buffer = new Uint8Array(long);
  let at = 0;
  for (let i = 0; i < length; i++) {
    const bytes = value(i);
    if (!bytes) continue;
    const view = i * 16;
    ints.setInt32(view, bytes.length, true);
    if (bytes.length <= 12) {
      put(views, view + 4, bytes);
      continue;
    }
    put(views, view + 4, bytes.subarray(0, 4));
    ints.setInt32(view + 8, 0, true);
    ints.setInt32(view + 12, at, true);
    at = put(buffer, at, bytes);
  }
  const variadicBuffers = long > 0 ? [buffer] : [];
  return makeData({ type, length, nullCount, nullBitmap, views, variadicBuffers } as never);
}
