import { type Data, type RecordBatch, Type, type Vector } from 'apache-arrow';
import { ColumnError, DecodeError, type ErrorDetails } from '../errors.js';
import { leafData } from './column-data.js';
import { runEndFault } from './run-ends.js';
import type { ColumnPlan } from './type-plan.js';

/** Where a batch came from, for error messages. */
export interface BatchOrigin {
  url: string;
  batch: number;
  byteOffset: number;
}

/**
 * Checks that each planned column of a decoded batch holds the values and validity bits its length
 * promises, so that the encoders never read past a buffer.
 */
export function checkBatch(batch: RecordBatch, plans: readonly ColumnPlan[], origin: BatchOrigin): void {
  for (const plan of plans) checkColumn(leafData(batch, plan), plan, batch.numRows, origin);
}

/** Checks one planned column's data (`undefined`: absent) as `checkBatch` does, for a batch of `rows` rows. */
export function checkColumn(
  data: Data | undefined,
  plan: ColumnPlan,
  rows: number,
  origin: BatchOrigin,
): asserts data is Data {
  const where: ErrorDetails = { ...origin, column: plan.name, arrowType: plan.arrowType };
  const at = `column ${JSON.stringify(plan.name)} of batch ${origin.batch} (message at byte ${origin.byteOffset}) in ${origin.url}`;
  const type = data && (plan.runEndEncoded ? runEndType(data) : String(data.type));
  if (!data || type !== plan.arrowType) {
    throw new ColumnError(
      'SCHEMA_MISMATCH',
      `${at}: expected Arrow type ${plan.arrowType}, got ${type ?? 'no column'}`,
      where,
    );
  }
  const fault = plan.runEndEncoded ? runEndsFault(data, rows) : lengthFault(data, rows);
  if (fault) throw new DecodeError('CORRUPT', `${at}: ${fault.what}`, { ...where, ...fault.sizes });
}

/** Dictionaries already checked: one is shared by every batch until a delta or a replacement. */
const checkedDictionaries = new WeakSet<Vector>();

/**
 * What is wrong in the offsets of a dictionary's text or binary values, which the dictionary encoder
 * reads as byte ranges (checked once per dictionary; other value types are read through apache-arrow).
 */
function dictionaryFault(dictionary: Vector): Fault | null {
  if (checkedDictionaries.has(dictionary)) return null;
  for (const chunk of dictionary.data) {
    const fault =
      chunk.length > 0 && chunk.values instanceof Uint8Array ? offsetsFault(chunk, chunk.length) : null;
    if (fault) return fault;
  }
  checkedDictionaries.add(dictionary);
  return null;
}

interface Fault {
  what: string;
  sizes: { expected: number; actual: number };
}

/** The type of a RunEndEncoded array decoded as the struct of its run ends and values. */
function runEndType(data: Data): string {
  const [ends, values] = data.children;
  return `RunEndEncoded<${String(ends?.type)}, ${String(values?.type)}>`;
}

/**
 * What is short in a RunEndEncoded array (the struct of its run ends and values) for `rows` rows: its
 * values child as a column of its own length, then its runs against the rows.
 */
function runEndsFault(data: Data, rows: number): Fault | null {
  if (data.length !== rows) {
    return {
      what: `${data.length} rows, but the batch has ${rows}`,
      sizes: { expected: rows, actual: data.length },
    };
  }
  const values = data.children[1];
  const fault = values ? lengthFault(values, values.length) : null;
  if (fault) return { ...fault, what: `its values: ${fault.what}` };
  return runEndFault(data, rows);
}

/** What is short in `data` for `rows` rows, or `null`. */
function lengthFault(data: Data, rows: number): Fault | null {
  if (data.length !== rows) {
    return {
      what: `${data.length} rows, but the batch has ${rows}`,
      sizes: { expected: rows, actual: data.length },
    };
  }
  // Bitmaps go by `data.offset`; values and offsets are sliced with the data (see encoders).
  const bits = data.offset + data.length;
  const needed = data.length;
  // A Null column has no buffers at all: every row is null by its type.
  if (data.type.typeId === Type.Null) return null;
  const bitmap = data.nullBitmap as Uint8Array | undefined;
  if (data.nullCount > 0 && (!bitmap || bitmap.byteLength === 0)) {
    return {
      what: `${data.nullCount} nulls declared but no validity bitmap`,
      sizes: { expected: 1, actual: 0 },
    };
  }
  if (bitmap && bitmap.byteLength > 0 && bitmap.byteLength * 8 < bits) {
    const sizes = { expected: Math.ceil(bits / 8), actual: bitmap.byteLength };
    return {
      what: `validity bitmap holds ${bitmap.byteLength * 8} bits, expected at least ${bits}`,
      sizes,
    };
  }
  return valuesFault(data, needed);
}

function valuesFault(data: Data, needed: number): Fault | null {
  if (needed === 0 || data.type.typeId === Type.Null) return null;
  if (data.type.typeId === Type.FixedSizeList) {
    const child = data.children[0] as Data | undefined;
    const listSize = (data.type as unknown as { listSize: number }).listSize;
    if (!child) return { what: 'list values are missing', sizes: { expected: needed * listSize, actual: 0 } };
    return lengthFault(child, Math.max(child.length, needed * listSize));
  }
  if (data.type.typeId === Type.Dictionary) {
    if (!data.dictionary) {
      return { what: 'no dictionary batch came before its first use', sizes: { expected: 1, actual: 0 } };
    }
    const fault = dictionaryFault(data.dictionary);
    if (fault) return { ...fault, what: `its dictionary: ${fault.what}` };
  }
  // Variable-size values (text, binary) take as many bytes as their offsets say, none for an empty or
  // null value: the offsets are checked against them instead.
  if (data.valueOffsets && data.type.typeId !== Type.Dictionary) return offsetsFault(data, needed);
  const values = data.values as ArrayLike<unknown> | undefined;
  const isBits = data.type.typeId === Type.Bool;
  const have = values?.length ?? 0;
  // Bool values are bits and, like bitmaps, not sliced: they go by `data.offset`.
  const want = isBits ? Math.ceil((data.offset + needed) / 8) : needed * data.stride;
  if (have < want) {
    return {
      what: `values buffer holds ${have} values, expected at least ${want}`,
      sizes: { expected: want, actual: have },
    };
  }
  return offsetsFault(data, needed);
}

/** Variable-size values: the offsets must cover the rows and stay inside the data buffer. */
function offsetsFault(data: Data, needed: number): Fault | null {
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  if (!offsets || data.type.typeId === Type.Dictionary) return null;
  if (offsets.length < needed + 1) {
    return {
      what: `offsets hold ${offsets.length} entries, expected ${needed + 1}`,
      sizes: { expected: needed + 1, actual: offsets.length },
    };
  }
  const end = Number(offsets[needed]);
  const bytes = (data.values as Uint8Array).byteLength;
  if (end > bytes)
    return {
      what: `offsets reach byte ${end} of a ${bytes}-byte data buffer`,
      sizes: { expected: end, actual: bytes },
    };
  return descentFault(offsets, needed);
}

/** Offsets must start at 0 or later and never go down: a value's bytes are `[offsets[i], offsets[i + 1])`. */
function descentFault(offsets: ArrayLike<number | bigint>, needed: number): Fault | null {
  const first = Number(offsets[0]);
  if (first < 0) return { what: `offsets start at ${first}`, sizes: { expected: 0, actual: first } };
  for (let row = 0; row < needed; row++) {
    const start = offsets[row] as number | bigint;
    const end = offsets[row + 1] as number | bigint;
    if (end < start) {
      return {
        what: `offsets go down at row ${row}: from ${start} to ${end}`,
        sizes: { expected: Number(start), actual: Number(end) },
      };
    }
  }
  return null;
}
