import type { FlatbufferView } from '../flatbuffer-view.js';
import { checkString, HeaderFault } from './checks.js';
import { Timestamp, TypeTable, Union } from './slots.js';

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

/** Arrow's `MetadataVersion.V5`: unions lost their validity buffer. */
export const METADATA_V5 = 4;

/**
 * Checks the type table of a field (its tag, its vtable and the vectors some types carry) and returns
 * the body buffers apache-arrow reads for it (view types: their variadic buffers come on top).
 */
export function checkType(fb: FlatbufferView, tag: number, type: number, version: number): number {
  if (tag < 1 || tag > MAX_TYPE_TAG) throw new HeaderFault(`a schema field has unknown type tag ${tag}`);
  // Read for every type, not only those whose fields apache-arrow reads: it checks the table's vtable.
  fb.field(type, TypeTable.first);
  switch (tag) {
    case TypeTag.Null:
    case TypeTag.RunEndEncoded:
      return 0;
    case TypeTag.Struct_:
    case TypeTag.FixedSizeList:
      return 1;
    case TypeTag.Binary:
    case TypeTag.Utf8:
    case TypeTag.LargeBinary:
    case TypeTag.LargeUtf8:
    case TypeTag.ListView:
    case TypeTag.LargeListView:
      return 3;
    case TypeTag.Timestamp:
      checkString(fb, fb.field(type, Timestamp.timezone));
      return 2;
    case TypeTag.Union:
      return unionBuffers(fb, type, version);
    default:
      return 2;
  }
}

/** Type ids and offsets (dense) or type ids alone (sparse), plus a validity buffer before V5. */
function unionBuffers(fb: FlatbufferView, type: number, version: number): number {
  const mode = fb.field(type, Union.mode);
  const typeIds = fb.field(type, Union.typeIds);
  if (typeIds !== null) fb.vector(typeIds, 4);
  const dense = mode !== null && fb.i16(mode) === 1;
  return (dense ? 2 : 1) + (version < METADATA_V5 ? 1 : 0);
}
