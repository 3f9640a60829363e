import { type DataType, type Field, Type } from 'apache-arrow';
import type { Encoding } from '../encoding.js';
import type { ColumnPlan } from '../type-plan.js';
import { BitEncoder } from './bit-encoder.js';
import type { ColumnEncoder, FixedWidthEncoder } from './column-encoder.js';
import { CopyEncoder } from './copy-encoder.js';
import { DEFAULT_MAX_DICTIONARY, DictionaryEncoder } from './dictionary-encoder.js';
import { F32Encoder, F32x2Encoder, RelativeEncoder, WidenEncoder } from './float-encoders.js';
import { RunEndBitEncoder, RunEndEncoder } from './run-end-encoders.js';
import { BytesEncoder, NullEncoder, VectorEncoder } from './shaped-encoders.js';

/** Options that encoders share. */
export interface EncoderOptions {
  /** Most distinct values of one dictionary column. */
  maxDictionary?: number;
}

/**
 * The encoder of a planned column whose Arrow type is `type`; for a run-end encoded column, `type` is
 * the struct of its run ends and values (as apache-arrow decodes it), and its runs are expanded.
 */
export function createEncoder(plan: ColumnPlan, type: DataType, options: EncoderOptions = {}): ColumnEncoder {
  if (plan.runEndEncoded) {
    const values = (type.children as Field[])[1]?.type as DataType;
    if (plan.encoding === 'bool') return new RunEndBitEncoder();
    return new RunEndEncoder(rowEncoder(plan, values, options));
  }
  return plan.encoding === 'bool' ? new BitEncoder() : rowEncoder(plan, type, options);
}

/** The encoder of any encoding but `bool`: a fixed number of words a row. */
function rowEncoder(plan: ColumnPlan, type: DataType, options: EncoderOptions): FixedWidthEncoder {
  switch (plan.encoding) {
    case 'bytes':
      return new BytesEncoder(plan.byteWidth as number);
    case 'vector': {
      const child = (type.children as Field[])[0]?.type as DataType;
      const element = plan.element as Encoding;
      const perElement = plan.components / (plan.listSize as number);
      const encoder = child.typeId === Type.Bool ? null : fixedEncoder(element, child, perElement);
      return new VectorEncoder(plan.listSize as number, encoder, perElement);
    }
    case 'dictionary':
      return new DictionaryEncoder({
        column: plan.name,
        maxDictionary: options.maxDictionary ?? DEFAULT_MAX_DICTIONARY,
      });
    default:
      return fixedEncoder(plan.encoding, type, plan.components);
  }
}

/** Encoders whose rows each take `components` words. */
function fixedEncoder(encoding: Encoding, type: DataType, components: number): FixedWidthEncoder {
  switch (encoding) {
    case 'null':
      return new NullEncoder();
    case 'f32':
      return isFloat32(type) ? new CopyEncoder(1) : new F32Encoder();
    case 'i32':
    case 'u32':
      return is32BitInt(type) ? new CopyEncoder(1) : new WidenEncoder();
    case 'f32x2':
      return new F32x2Encoder();
    case 'f32-relative':
      return new RelativeEncoder();
    default:
      // i64, u64, f64, decimal, interval: the Arrow bytes are the words.
      return new CopyEncoder(components);
  }
}

function isFloat32(type: DataType): boolean {
  return type.typeId === Type.Float && (type as DataType & { precision: number }).precision === 1;
}

/** 32-bit integers and the 32-bit date/time types are stored as they are. */
function is32BitInt(type: DataType): boolean {
  if (type.typeId === Type.Int) return (type as DataType & { bitWidth: number }).bitWidth === 32;
  return type.typeId === Type.Date || type.typeId === Type.Time || type.typeId === Type.Interval;
}

/** Encodings whose words depend on earlier batches (a partial word, a first value, a dictionary). */
const STATEFUL: ReadonlySet<Encoding> = new Set<Encoding>(['bool', 'dictionary', 'f32-relative']);

/**
 * Whether a column's words for a batch depend on that batch alone, so that any thread may encode it
 * out of order; Arrow dictionaries and run-end encoded columns never do (their codes and runs are
 * mapped onto the table's state).
 */
export function encodesAlone(plan: ColumnPlan, type: DataType): boolean {
  if (plan.runEndEncoded || type.typeId === Type.Dictionary || STATEFUL.has(plan.encoding)) return false;
  return plan.encoding !== 'vector' || !STATEFUL.has(plan.element as Encoding);
}
