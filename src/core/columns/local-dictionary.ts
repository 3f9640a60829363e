import { Data, type DataType, Dictionary, Int32, Type, Vector } from 'apache-arrow';
import { bitAt } from './encoders/byte-keys.js';
import { ByteTable } from './encoders/byte-table.js';

/** A text or binary column's rows as a dictionary of their own (see `splitDictionary`). */
export interface LocalDictionary {
  /** One Int32 code a row (0 for null rows), with the rows' validity bitmap and offset. */
  codes: Data<Int32>;
  /** The distinct values, in the order they first appear, of the column's own type. */
  values: Data;
}

/**
 * Codes a text or binary column's rows into a dictionary of their own, in order of first appearance;
 * `null` for other types. A decode worker sends this instead of every row's bytes, so the table-wide
 * dictionary (which depends on earlier batches) looks up each distinct value once a batch, not each row.
 */
export function splitDictionary(data: Data): LocalDictionary | null {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
  if (!isOffsetBytes(data.type) || !offsets || !(data.values instanceof Uint8Array)) return null;
  const bytes = data.values;
  const table = new ByteTable();
  const indices = new Int32Array(data.length);
  const bitmap = data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : null;
  for (let row = 0; row < data.length; row++) {
    if (bitmap && !bitAt(bitmap, data.offset + row)) continue; // code 0
    const start = Number(offsets[row]);
    const end = Number(offsets[row + 1]);
    let code = table.get(bytes, start, end);
    if (code < 0) {
      code = table.size;
      table.add(bytes, start, end, code);
    }
    indices[row] = code;
  }
  const keys = table.keys();
  const codes = new Data(new Int32(), data.offset, data.length, data.nullCount, [
    undefined,
    indices,
    data.nullBitmap,
  ] as never);
  return { codes, values: valuesData(data.type, keys.offsets, keys.bytes) };
}

/** The column as Arrow's dictionary type: what `splitDictionary` split, as the dictionary encoder reads it. */
export function joinDictionary(type: DataType, local: LocalDictionary): Data<Dictionary> {
  const { codes, values } = local;
  return new Data(
    new Dictionary(type, new Int32()),
    codes.offset,
    codes.length,
    codes.nullCount,
    [undefined, codes.values, codes.nullBitmap] as never,
    [],
    new Vector([values]),
  );
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
