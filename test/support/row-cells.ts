import { type DataType, type Field, Precision, type Table, Type, type Vector } from 'apache-arrow';
import type { ColumnPlan } from '../../src/core/columns/type-plan.js';
import type { ColumnInfo } from '../../src/types.js';

// What readRows must return, worked out on the CPU from the source table: each row's value in a form
// that compares exactly (fixed-width values as the hex of their bytes, so that -0, NaN bits and the
// last bit of a 64-bit integer count), and what each lossy encoding makes of a source value.

/** A row's value as it compares: hex bytes, a string, bytes, a boolean, a list of those, or null. */
export type Cell = string | boolean | number[] | Cell[] | null;

/** A source column by its plan's path: the leaf vector, and whether each row is valid along the path. */
export interface SourceColumn {
  vector: Vector;
  valid: (row: number) => boolean;
}

/** The leaf of `plan.path` in `table`: null where it or a struct above it is, or (vectors) an element is. */
export function sourceColumn(table: Table, plan: ColumnPlan): SourceColumn {
  const [top, ...rest] = plan.path;
  const chain: Vector[] = [table.getChildAt(top as number) as Vector];
  for (const index of rest) chain.push((chain[chain.length - 1] as Vector).getChildAt(index) as Vector);
  const vector = chain[chain.length - 1] as Vector;
  const elementsValid = (row: number) => {
    if (vector.type.typeId !== Type.FixedSizeList) return true;
    const list = vector.get(row) as Vector;
    return Array.from({ length: list.length }, (_, j) => list.isValid(j)).every(Boolean);
  };
  return { vector, valid: (row) => chain.every((v) => v.isValid(row)) && elementsValid(row) };
}

/** Row `row` of `vector` as it compares (null when not valid). */
export function cellOf(vector: Vector, row: number, valid = vector.isValid(row)): Cell {
  if (!valid) return null;
  switch (vector.type.typeId) {
    case Type.Null:
      return null;
    case Type.FixedSizeList: {
      const list = vector.get(row) as Vector;
      return Array.from({ length: list.length }, (_, j) => cellOf(list, j, true));
    }
    case Type.Bool:
      return vector.get(row) as boolean;
    case Type.Dictionary:
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView: {
      const value = vector.get(row) as string | Uint8Array | number | bigint;
      return value instanceof Uint8Array ? Array.from(value) : String(value);
    }
    default:
      return hex(rowBytes(vector, row));
  }
}

/** The bytes of a fixed-width row, from the chunk that holds it. */
function rowBytes(vector: Vector, row: number): Uint8Array {
  let at = row;
  for (const data of vector.data) {
    if (at < data.length) {
      const values = data.values as Uint8Array;
      const width = values.BYTES_PER_ELEMENT * data.stride;
      return new Uint8Array(values.buffer, values.byteOffset + at * width, width);
    }
    at -= data.length;
  }
  throw new RangeError(`row ${row} is past the vector's ${vector.length} rows`);
}

/** Row `row` of a fixed-width vector as the number (or bigint) its array holds. */
export function rawValue(vector: Vector, row: number): number | bigint {
  let at = row;
  for (const data of vector.data) {
    if (at < data.length) return (data.values as ArrayLike<number | bigint>)[at * data.stride] as number;
    at -= data.length;
  }
  throw new RangeError(`row ${row} is past the vector's ${vector.length} rows`);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * What the GPU makes of a source value in a lossy encoding, stored in the column's Arrow type: `f32`
 * rounds to the nearest f32; `f32x2` keeps hi = f32(v) and lo = f32(v - hi); `f32-relative` keeps
 * f32(v - offset) and adds the offset back. Integer types round to the nearest integer.
 */
export function lossyCell(column: ColumnInfo, type: DataType, value: number | bigint): Cell {
  const offset = column.offset ?? '0';
  const big = typeof value === 'bigint';
  const v = Number(value);
  let gpu: number;
  if (column.encoding === 'f32') gpu = Math.fround(v);
  else if (column.encoding === 'f32x2') gpu = Math.fround(v) + Math.fround(v - Math.fround(v));
  else gpu = Math.fround(big ? Number((value as bigint) - BigInt(offset)) : v - Number(offset));
  const Ctor = type.ArrayType as { new (n: number): Float64Array | Float32Array | BigInt64Array };
  const out = new Ctor(1);
  if (out instanceof BigInt64Array) {
    out[0] = BigInt(Math.round(gpu)) + (column.encoding === 'f32-relative' ? BigInt(offset) : 0n);
  } else out[0] = column.encoding === 'f32-relative' ? gpu + Number(offset) : gpu;
  return hex(new Uint8Array(out.buffer));
}

/** Whether a field's type is a double (the lossy cases' `f32` needs it to be one). */
export function isDouble(field: Field): boolean {
  return (
    field.type.typeId === Type.Float &&
    (field.type as DataType & { precision: Precision }).precision === Precision.DOUBLE
  );
}
