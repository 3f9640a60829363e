import { type DataType, DateUnit, IntervalUnit, Precision, Type } from 'apache-arrow';
import type { Encoding } from './encoding.js';

/** The encodings a type can take: the first is its `'auto'` default, `exact` its lossless default. */
export interface TypeEncodings {
  auto: Encoding;
  exact: Encoding;
  allowed: readonly Encoding[];
}

const LOSSY_64: readonly Encoding[] = ['f32', 'f32x2', 'f32-relative'];

function of(auto: Encoding, allowed: readonly Encoding[] = [], exact: Encoding = auto): TypeEncodings {
  return { auto, exact, allowed: [...new Set([auto, exact, ...allowed])] };
}

/** The encodings of a type that is not nested, or `null` when it has none (then `UNSUPPORTED_TYPE`). */
export function encodingsOf(type: DataType): TypeEncodings | null {
  const t = type as DataType & Record<string, unknown>;
  switch (type.typeId) {
    case Type.Null:
      return of('null');
    case Type.Bool:
      return of('bool');
    case Type.Int:
      return intEncodings(t.bitWidth as number, t.isSigned as boolean);
    case Type.Float:
      return t.precision === Precision.DOUBLE ? of('f32', ['f32x2', 'f32-relative'], 'f64') : of('f32');
    case Type.Decimal:
      return of('decimal', ['f32']);
    case Type.Date:
      return t.unit === DateUnit.DAY ? of('i32', ['f32']) : of('i64', LOSSY_64);
    case Type.Time:
      return (t.bitWidth as number) === 32 ? of('i32', ['f32']) : of('i64', LOSSY_64);
    case Type.Timestamp:
    case Type.Duration:
      return of('i64', LOSSY_64);
    case Type.Interval:
      return t.unit === IntervalUnit.YEAR_MONTH ? of('i32') : of('interval');
    case Type.Dictionary:
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView:
      return of('dictionary');
    case Type.FixedSizeBinary:
      return of('bytes');
    default:
      return null;
  }
}

function intEncodings(bitWidth: number, signed: boolean): TypeEncodings {
  if (bitWidth === 64) return signed ? of('i64', LOSSY_64) : of('u64', ['f32']);
  return signed ? of('i32', ['f32']) : of('u32', ['f32']);
}

/** Words one value of a numeric or boolean element type takes in a `vector` (Bool: one u32, 0 or 1). */
export function elementEncodingOf(type: DataType, exact: boolean): Encoding | null {
  if (type.typeId === Type.Bool) return 'u32';
  if (type.typeId !== Type.Int && type.typeId !== Type.Float) return null;
  const encodings = encodingsOf(type);
  return encodings ? (exact ? encodings.exact : encodings.auto) : null;
}
