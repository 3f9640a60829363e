import { type DataType, type Field, Precision, type Schema, Type } from 'apache-arrow';
import { ColumnError, UnsupportedTypeError } from '../errors.js';

/** The WGSL scalar type a column is stored as on the GPU. */
export type GpuType = 'f32' | 'i32' | 'u32';

/** How source values become GPU values: byte copy, integer widening, or f64 → f32 rounding. */
export type Conversion = 'copy' | 'widen' | 'narrow-f64';

/** Every GPU value is one 32-bit word. */
export const GPU_BYTES_PER_VALUE = 4;

/** WebGPU copy offsets and sizes must be multiples of 4 bytes. */
export const COPY_ALIGNMENT = 4;

/** How one selected column is laid out on the GPU. */
export interface ColumnPlan {
  /** Field name in the Arrow schema. */
  name: string;
  /** Index of the field among the schema's top-level fields. */
  fieldIndex: number;
  /** The Arrow type as apache-arrow prints it, e.g. `Int16` or `Float64`. */
  arrowType: string;
  gpuType: GpuType;
  conversion: Conversion;
}

interface GpuEncoding {
  gpuType: GpuType;
  conversion: Conversion;
}

/** Chooses the GPU encoding of an Arrow type, or `null` when it has none yet. */
export function gpuEncodingOf(type: DataType): GpuEncoding | null {
  switch (type.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = type as DataType<Type.Int> & { bitWidth: number; isSigned: boolean };
      if (bitWidth > 32) return null;
      const gpuType = isSigned ? 'i32' : 'u32';
      return { gpuType, conversion: bitWidth === 32 ? 'copy' : 'widen' };
    }
    case Type.Float: {
      const { precision } = type as DataType<Type.Float> & { precision: Precision };
      if (precision === Precision.SINGLE) return { gpuType: 'f32', conversion: 'copy' };
      if (precision === Precision.DOUBLE) return { gpuType: 'f32', conversion: 'narrow-f64' };
      return null;
    }
    default:
      return null;
  }
}

/** Plans the columns to upload: all of the schema's, or the named ones in the order given. */
export function planColumns(schema: Schema, names: readonly string[] | undefined, url: string): ColumnPlan[] {
  const fields = schema.fields;
  const picked: Array<{ field: Field; fieldIndex: number }> = [];
  if (names === undefined) {
    fields.forEach((field, fieldIndex) => {
      picked.push({ field, fieldIndex });
    });
  } else {
    for (const name of names) {
      const fieldIndex = fields.findIndex((f) => f.name === name);
      const field = fields[fieldIndex];
      if (field === undefined) {
        const available = fields.map((f) => JSON.stringify(f.name)).join(', ');
        throw new ColumnError(
          'NO_SUCH_COLUMN',
          `No column ${JSON.stringify(name)} in ${url}; the schema has ${fields.length} column(s): ${available}`,
          { url, column: name },
        );
      }
      if (!picked.some((p) => p.fieldIndex === fieldIndex)) picked.push({ field, fieldIndex });
    }
  }
  return picked.map(({ field, fieldIndex }) => planColumn(field, fieldIndex, url));
}

function planColumn(field: Field, fieldIndex: number, url: string): ColumnPlan {
  const arrowType = String(field.type);
  const encoding = gpuEncodingOf(field.type);
  if (encoding === null) {
    throw new UnsupportedTypeError(
      `Column ${JSON.stringify(field.name)} in ${url} has Arrow type ${arrowType}, which has no GPU encoding; ` +
        'supported: Int8/16/32, Uint8/16/32, Float32, Float64 (leave the column out with the `columns` option)',
      { url, column: field.name, arrowType },
    );
  }
  return { name: field.name, fieldIndex, arrowType, ...encoding };
}

/** Rounds `n` up to a multiple of `alignment` (a power of two). */
export function alignUp(n: number, alignment: number = COPY_ALIGNMENT): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Number of u32 words that hold `rows` validity bits. */
export function validityWordCount(rows: number): number {
  return Math.ceil(rows / 32);
}
