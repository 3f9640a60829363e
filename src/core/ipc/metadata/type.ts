import type { FlatbufferView } from '../flatbuffer-view.js';
import { checkString, HeaderFault } from './checks.js';
import {
  Date_,
  Decimal,
  FixedSizeBinary,
  FixedSizeList,
  FloatingPoint,
  Int,
  Interval,
  Time,
  Timestamp,
  TypeTable,
  Union,
} from './slots.js';
import {
  BITS,
  type BufferKind,
  BY_OFFSETS,
  bitWidth,
  FREE,
  fixed,
  flat,
  nested,
  OFFSETS_32,
  OFFSETS_64,
  SAME_LENGTH,
  type TypeLayout,
  UNBOUNDED,
  VALUES,
} from './type-layout.js';

/** Arrow's `Type` union tags (Schema.fbs); 0 is `NONE`. */
export const TypeTag = {
  Null: 1,
  Int: 2,
  FloatingPoint: 3,
  Binary: 4,
  Utf8: 5,
  Bool: 6,
  Decimal: 7,
  Date: 8,
  Time: 9,
  Timestamp: 10,
  Interval: 11,
  List: 12,
  Struct_: 13,
  Union: 14,
  FixedSizeBinary: 15,
  FixedSizeList: 16,
  Map: 17,
  Duration: 18,
  LargeBinary: 19,
  LargeUtf8: 20,
  LargeList: 21,
  RunEndEncoded: 22,
  BinaryView: 23,
  Utf8View: 24,
  ListView: 25,
  LargeListView: 26,
} as const;

const MAX_TYPE_TAG = TypeTag.LargeListView;

/** Arrow's `MetadataVersion.V4` (Arrow 0.8): the oldest metadata read; `Buffer` lost its page field. */
export const METADATA_V4 = 3;

/** Arrow's `MetadataVersion.V5`: unions lost their validity buffer. */
export const METADATA_V5 = 4;

/**
 * Checks the type table of a field (its tag, its vtable and the vectors some types carry) and returns
 * the body buffers apache-arrow reads for it, each with what bounds its size (view types: their
 * variadic buffers come on top).
 */
export function checkType(fb: FlatbufferView, tag: number, type: number, version: number): TypeLayout {
  if (tag < 1 || tag > MAX_TYPE_TAG) throw new HeaderFault(`a schema field has unknown type tag ${tag}`);
  // Read for every type, not only those whose fields apache-arrow reads: it checks the table's vtable.
  fb.field(type, TypeTable.first);
  switch (tag) {
    case TypeTag.Null:
      return flat();
    case TypeTag.Int:
      return flat(BITS, bitWidth(readInt(fb, type, Int.bitWidth, 0)));
    case TypeTag.FloatingPoint:
      return flat(BITS, bitWidth(16 << readShort(fb, type, FloatingPoint.precision, 0))); // HALF, SINGLE, DOUBLE
    case TypeTag.Binary:
    case TypeTag.Utf8:
      return flat(BITS, OFFSETS_32, VALUES);
    case TypeTag.LargeBinary:
    case TypeTag.LargeUtf8:
      return flat(BITS, OFFSETS_64, VALUES);
    case TypeTag.Bool:
      return flat(BITS, BITS);
    case TypeTag.Decimal:
      return flat(BITS, bitWidth(readInt(fb, type, Decimal.bitWidth, 128)));
    case TypeTag.Date:
      // DAY: int32, MILLISECOND (the default): int64
      return flat(BITS, fixed(readShort(fb, type, Date_.unit, 1) === 0 ? 4 : 8));
    case TypeTag.Time:
      return flat(BITS, bitWidth(readInt(fb, type, Time.bitWidth, 32)));
    case TypeTag.Timestamp:
      checkString(fb, fb.field(type, Timestamp.timezone));
      return flat(BITS, fixed(8));
    case TypeTag.Interval:
      return flat(BITS, intervalValues(readShort(fb, type, Interval.unit, 0)));
    case TypeTag.Duration:
      return flat(BITS, fixed(8));
    case TypeTag.FixedSizeBinary:
      return flat(BITS, fixed(readInt(fb, type, FixedSizeBinary.byteWidth, 0), BYTES));
    default:
      return nestedLayout(fb, tag, type, version);
  }
}

/** The layouts of nested and view types. */
function nestedLayout(fb: FlatbufferView, tag: number, type: number, version: number): TypeLayout {
  switch (tag) {
    case TypeTag.List:
    case TypeTag.Map:
      return nested(BY_OFFSETS, BITS, OFFSETS_32);
    case TypeTag.LargeList:
      return nested(BY_OFFSETS, BITS, OFFSETS_64);
    case TypeTag.Struct_:
      return nested(SAME_LENGTH, BITS);
    case TypeTag.FixedSizeList: {
      const size = readInt(fb, type, FixedSizeList.listSize, 0);
      return nested(size >= 0 ? { from: 'length', times: size } : UNBOUNDED, BITS);
    }
    case TypeTag.RunEndEncoded:
      return nested(SAME_LENGTH);
    case TypeTag.ListView:
      return nested(UNBOUNDED, BITS, fixed(4), fixed(4));
    case TypeTag.LargeListView:
      return nested(UNBOUNDED, BITS, fixed(8), fixed(8));
    case TypeTag.BinaryView:
    case TypeTag.Utf8View:
      return { buffers: [BITS, fixed(16, 'view')], children: UNBOUNDED, variadic: true };
    default:
      return unionLayout(fb, type, version);
  }
}

/**
 * A union: type ids (one byte a row), plus offsets (four bytes a row) when dense; a validity buffer
 * before V5.
 */
function unionLayout(fb: FlatbufferView, type: number, version: number): TypeLayout {
  const mode = fb.field(type, Union.mode);
  const typeIds = fb.field(type, Union.typeIds);
  if (typeIds !== null) fb.vector(typeIds, 4);
  const dense = mode !== null && fb.i16(mode) === 1;
  const buffers = [...(version < METADATA_V5 ? [BITS] : []), fixed(1), ...(dense ? [fixed(4)] : [])];
  return nested(dense ? UNBOUNDED : SAME_LENGTH, ...buffers);
}

/** Values of no number: bytes in any byte order. */
const BYTES: readonly number[] = [];

/** An interval's values by unit: YEAR_MONTH one int32, DAY_TIME two, MONTH_DAY_NANO two and an int64. */
function intervalValues(unit: number): BufferKind {
  if (unit === 0) return fixed(4);
  if (unit === 1) return fixed(8, [4, 4]);
  return unit === 2 ? fixed(16, [4, 4, 8]) : FREE;
}

/** The `int` field of a type table at `slot`, or `absent`. */
function readInt(fb: FlatbufferView, type: number, slot: number, absent: number): number {
  const at = fb.field(type, slot);
  return at === null ? absent : fb.i32(at);
}

/** The `short` (or short enum) field of a type table at `slot`, or `absent`. */
function readShort(fb: FlatbufferView, type: number, slot: number, absent: number): number {
  const at = fb.field(type, slot);
  return at === null ? absent : fb.i16(at);
}
