import {
  type Data,
  type DataType,
  Dictionary,
  Int32,
  makeData,
  makeVector,
  Type,
  Vector,
  vectorFromArray,
} from 'apache-arrow';
import type { DictionaryValue } from '../encoders/dictionary-encoder.js';
import { byteData, byteRowsOf, isByteType } from './byte-values.js';

/** What a `dictionary` column's rows hold: u32 codes into the table's dictionary, and that dictionary. */
export interface DictionaryRows {
  /** The Arrow type the column had: a Dictionary, or the text or binary type the worker encoded. */
  type: DataType;
  /** One code a row. */
  codes: Uint32Array;
  /** Whether row `i` is valid. */
  valid: (row: number) => boolean;
  /** The table's dictionary by code, as the encoder keeps it (text and binary values as bytes). */
  values: readonly DictionaryValue[];
  nullBitmap: Uint8Array | undefined;
  nullCount: number;
  column: string;
}

/**
 * The rows of a `dictionary` column in their Arrow type. A text or binary column that the worker
 * encoded gets its values back; a Dictionary column keeps its value type, index type, id and ordering,
 * with a dictionary of only the values its rows use (in the table dictionary's order), so that a few
 * rows never carry a million-value dictionary. Its index type widens to Int32 when the rows use more
 * values than it counts (batches that replaced their dictionaries can add up to that many).
 */
export function dictionaryData(rows: DictionaryRows): Data {
  const { type, codes, valid, values } = rows;
  const length = codes.length;
  if (type.typeId !== Type.Dictionary) {
    const bytes = values as ReadonlyArray<Uint8Array | null>;
    const nullBitmap = rows.nullCount > 0 ? rows.nullBitmap : undefined;
    return byteData(
      type,
      { length, values: bytes, codes, nullBitmap, nullCount: rows.nullCount },
      rows.column,
    );
  }
  const used = usedCodes(codes, valid);
  const next = new Map(Array.from(used, (code, i) => [code, i]));
  const indices = new Int32Array(length);
  for (let i = 0; i < length; i++) if (valid(i)) indices[i] = next.get(codes[i] as number) as number;
  const dictionaryType = type as Dictionary;
  const outType = fits(dictionaryType.indices, used.length)
    ? dictionaryType
    : new Dictionary(dictionaryType.dictionary, new Int32(), dictionaryType.id, dictionaryType.isOrdered);
  const dictionary = makeVector(
    valuesData(
      dictionaryType.dictionary,
      Array.from(used, (c) => values[c] ?? null),
      rows.column,
    ),
  );
  return makeData({
    type: outType,
    length,
    nullCount: rows.nullCount,
    nullBitmap: rows.nullBitmap,
    data: indicesOf(outType.indices, indices),
    dictionary,
  } as never);
}

/** The distinct codes of valid rows, ascending. */
function usedCodes(codes: Uint32Array, valid: (row: number) => boolean): Uint32Array {
  const seen = new Set<number>();
  for (let i = 0; i < codes.length; i++) if (valid(i)) seen.add(codes[i] as number);
  return Uint32Array.from(seen).sort();
}

/** Whether an index type counts `size` values. */
function fits(indices: DataType, size: number): boolean {
  const { bitWidth, isSigned } = indices as DataType & { bitWidth: number; isSigned: boolean };
  return size <= 2 ** (bitWidth - (isSigned ? 1 : 0));
}

/** Indices in the index type's array (64-bit ones as BigInts). */
function indicesOf(indices: DataType, values: Int32Array): ArrayBufferView {
  const Ctor = indices.ArrayType as { new (length: number): ArrayBufferView };
  const out = new Ctor(values.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i] as number);
  } else (out as Int32Array).set(values);
  return out;
}

/**
 * A dictionary's values in its value type: bytes laid out directly, others through apache-arrow's
 * builders, which take nested values (lists, struct rows) only as plain arrays and objects.
 */
function valuesData(type: DataType, values: DictionaryValue[], column: string): Data {
  if (isByteType(type)) return byteData(type, byteRowsOf(values as Array<Uint8Array | null>), column);
  return vectorFromArray(values.map(plain) as never[], type).data[0] as Data;
}

/** A value as apache-arrow read it, with nested vectors and rows as plain arrays and objects. */
function plain(value: unknown): unknown {
  if (value instanceof Vector) return Array.from(value as Iterable<unknown>, plain);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const row = value as { toJSON?: () => Record<string, unknown> };
  if (typeof row.toJSON !== 'function') return value;
  return Object.fromEntries(Object.entries(row.toJSON()).map(([k, v]) => [k, plain(v)]));
}
