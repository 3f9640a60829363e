import { Data, type DataType, Dictionary, Int32, Type, type Vector } from 'apache-arrow';
import { bitAt, keyBytes, offsetNumbers } from './encoders/byte-keys.js';
import { ByteTable } from './encoders/byte-table.js';

/** A batch of a text or binary column coded into a dictionary of a decode worker's own (`splitDictionary`). */
export interface LocalDictionary {
  /** One Int32 code a row into the worker's dictionary (0 for null rows), with the rows' bitmap and offset. */
  codes: Data<Int32>;
  /** The values this batch added to the worker's dictionary, in the order they first appear, of the column's type. */
  added: Data;
}

/**
 * Codes a text or binary column's rows into `table`, a dictionary that a decode worker keeps across a
 * load's batches, in order of first appearance; `null` for other types. The worker sends the codes and
 * the values this batch added instead of every row's bytes, so that the loader's thread (which keeps the
 * table-wide dictionary, in source order) looks up each of the worker's values once in the whole load
 * and maps the rows' codes through that lookup.
 */
export function splitDictionary(data: Data, table = new ByteTable()): LocalDictionary | null {
  if (!hasTextOffsets(data)) return null;
  const before = table.size;
  const indices = codeRows(data, table);
  const keys = table.keysFrom(before);
  const codes = new Data(new Int32(), data.offset, data.length, data.nullCount, [
    undefined,
    indices,
    data.nullBitmap,
  ] as never);
  return { codes, added: valuesData(data.type, keys.offsets, keys.bytes) };
}

/** Each row's code in `table` (0 for null rows), adding the values not held yet. */
function codeRows(data: Data, table: ByteTable): Int32Array {
  const source = keyBytes(data.values as Uint8Array);
  // Read once: `Data`'s properties cost more than a row's bitmap bit when read a row.
  const { length, offset } = data;
  const indices = new Int32Array(length);
  const bitmap = data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : null;
  const starts = offsetNumbers(data.valueOffsets as Int32Array | BigInt64Array, 0, length);
  for (let row = 0; row < length; row++) {
    if (bitmap && !bitAt(bitmap, offset + row)) continue; // code 0
    const start = starts[row] as number;
    const end = starts[row + 1] as number;
    let code = table.get(source, start, end);
    if (code < 0) {
      code = table.size;
      table.add(source, start, end, code);
    }
    indices[row] = code;
  }
  return indices;
}

/**
 * The column as Arrow's dictionary type, as the dictionary encoder reads it: `codes` into `dictionary`,
 * the worker's dictionary so far (each batch's `added` values appended, in the order it sent them).
 */
export function joinDictionary(type: DataType, codes: Data<Int32>, dictionary: Vector): Data<Dictionary> {
  return new Data(
    new Dictionary(type, new Int32()),
    codes.offset,
    codes.length,
    codes.nullCount,
    [undefined, codes.values, codes.nullBitmap] as never,
    [],
    dictionary,
  );
}

/** Whether `data` is text or binary with offsets into its bytes: what `splitDictionary` codes. */
export function hasTextOffsets(data: Data): boolean {
  return isOffsetBytes(data.type) && data.valueOffsets !== undefined && data.values instanceof Uint8Array;
}

function valuesData(type: DataType, offsets: Int32Array, bytes: Uint8Array): Data {
  const count = offsets.length - 1;
  // Large types keep 64-bit offsets, as their type says.
  const typed = isLarge(type) ? BigInt64Array.from(offsets, (o) => BigInt(o)) : offsets;
  return new Data(type, 0, count, 0, [typed, bytes, undefined] as never);
}

function isLarge(type: DataType): boolean {
  return type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
}

function isOffsetBytes(type: DataType): boolean {
  const id = type.typeId;
  return id === Type.Utf8 || id === Type.Binary || isLarge(type);
}
