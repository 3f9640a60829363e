// Flatbuffer slots of the Arrow metadata tables, named after the fields of format/Message.fbs,
// format/Schema.fbs and format/File.fbs. A table's slots follow its field order; a union field takes
// two slots: its `_type` tag, then the offset of the member table.

/** `Message` (Message.fbs): the root of every IPC message's metadata. */
export const Message = { version: 0, header_type: 1, header: 2, bodyLength: 3, custom_metadata: 4 } as const;

/** `RecordBatch` (Message.fbs). */
export const RecordBatch = {
  length: 0,
  nodes: 1,
  buffers: 2,
  compression: 3,
  variadicBufferCounts: 4,
} as const;

/** `BodyCompression` (Message.fbs): how a batch's body buffers are compressed. */
export const BodyCompression = { codec: 0, method: 1 } as const;

/** `DictionaryBatch` (Message.fbs). */
export const DictionaryBatch = { id: 0, data: 1, isDelta: 2 } as const;

/** `Schema` (Schema.fbs). */
export const Schema = { endianness: 0, fields: 1, custom_metadata: 2, features: 3 } as const;

/** `Field` (Schema.fbs). */
export const Field = {
  name: 0,
  nullable: 1,
  type_type: 2,
  type: 3,
  dictionary: 4,
  children: 5,
  custom_metadata: 6,
} as const;

/** `DictionaryEncoding` (Schema.fbs). */
export const DictionaryEncoding = { id: 0, indexType: 1, isOrdered: 2, dictionaryKind: 3 } as const;

/** `Int` (Schema.fbs): also a dictionary's index type. */
export const Int = { bitWidth: 0, is_signed: 1 } as const;

/** `FloatingPoint` (Schema.fbs). */
export const FloatingPoint = { precision: 0 } as const;

/** `Decimal` (Schema.fbs). */
export const Decimal = { precision: 0, scale: 1, bitWidth: 2 } as const;

/** `Date` (Schema.fbs); named `Date_` so as not to shadow the global `Date`. */
export const Date_ = { unit: 0 } as const;

/** `Time` (Schema.fbs). */
export const Time = { unit: 0, bitWidth: 1 } as const;

/** `Timestamp` (Schema.fbs). */
export const Timestamp = { unit: 0, timezone: 1 } as const;

/** `Interval` (Schema.fbs). */
export const Interval = { unit: 0 } as const;

/** `FixedSizeBinary` (Schema.fbs). */
export const FixedSizeBinary = { byteWidth: 0 } as const;

/** `FixedSizeList` (Schema.fbs). */
export const FixedSizeList = { listSize: 0 } as const;

/** `Union` (Schema.fbs). */
export const Union = { mode: 0, typeIds: 1 } as const;

/**
 * The first slot of any member table of the `Type` union (`Int.bitWidth`, `Timestamp.unit`,
 * `Union.mode`…). Reading it walks the table's vtable, so even a type table without fields is checked.
 */
export const TypeTable = { first: 0 } as const;

/** `KeyValue` (Schema.fbs): one entry of custom metadata. */
export const KeyValue = { key: 0, value: 1 } as const;

/** `Footer` (File.fbs): the metadata at the end of an Arrow file. */
export const Footer = {
  version: 0,
  schema: 1,
  dictionaries: 2,
  recordBatches: 3,
  custom_metadata: 4,
} as const;
