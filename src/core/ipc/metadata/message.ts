import { FlatbufferView } from '../flatbuffer-view.js';

/** Arrow's `MessageHeader` union tags (Message.fbs). */
export const MessageKind = {
  Schema: 1,
  DictionaryBatch: 2,
  RecordBatch: 3,
  Tensor: 4,
  SparseTensor: 5,
} as const;

/** The tag of a message's header union. */
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** What the framer needs from a message's metadata, read without trusting it. */
export interface MessageHeaderInfo {
  kind: number;
  bodyLength: number;
  /** Rows of a record batch (or of a dictionary batch's data); 0 for other messages. */
  rows: number;
  /** Record and dictionary batches: what the batch lists, to be checked against its schema. */
  batch: BatchShape | null;
  /** Schema messages: what the batches of this schema must list. */
  layout: SchemaLayout | null;
}

/** Field nodes and body buffers that a batch lists, or that a schema's fields need. */
export interface FieldsShape {
  nodes: number;
  buffers: number;
}

/** What a record or dictionary batch lists. */
export interface BatchShape extends FieldsShape {
  /** Length of each field node, in order. */
  nodeLengths: readonly number[];
  /** Dictionary batches: the dictionary id. */
  dictionaryId: number | null;
}

/** What a schema's batches must list, as apache-arrow will read them. */
export interface SchemaLayout extends FieldsShape {
  /** Index of each top-level field's node among a record batch's field nodes. */
  topLevelNodes: readonly number[];
  /** What a dictionary batch must list, by dictionary id. */
  dictionaries: ReadonlyMap<number, FieldsShape>;
}

/** Deepest field nesting a schema may have (apache-arrow decodes nested fields recursively). */
export const MAX_FIELD_DEPTH = 64;

/** A fault in a message's metadata; the framer adds the byte offset and turns it into a `DecodeError`. */
export class HeaderFault extends Error {}

/**
 * Reads a message's metadata flatbuffer and checks what apache-arrow would otherwise trust: every
 * vector, string and table in bounds, every body buffer inside the body, lengths and counts sane, and
 * a schema's nesting and size bounded, so that lying metadata fails here instead of looping, recursing
 * or allocating in the decoder.
 */
export function readMessageHeader(metadata: Uint8Array): MessageHeaderInfo {
  const fb = new FlatbufferView(metadata);
  const message = fb.root();
  const versionField = fb.field(message, 0);
  const version = versionField === null ? 0 : fb.i16(versionField);
  const kindField = fb.field(message, 1);
  const kind = kindField === null ? 0 : fb.u8(kindField);
  const bodyField = fb.field(message, 3);
  const bodyLength = bodyField === null ? 0 : fb.i64(bodyField);
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) {
    throw new HeaderFault(`message declares an invalid body length (${bodyLength})`);
  }
  checkKeyValues(fb, fb.field(message, 4));
  const headerField = fb.field(message, 2);
  if (kind === MessageKind.Schema) {
    if (headerField === null) throw new HeaderFault('schema message has no schema');
    const layout = checkSchema(fb, fb.indirect(headerField), version);
    return { kind, bodyLength, rows: 0, batch: null, layout };
  }
  if (kind !== MessageKind.RecordBatch && kind !== MessageKind.DictionaryBatch) {
    throw new HeaderFault(
      `unsupported message type ${kind} (expected Schema, DictionaryBatch or RecordBatch)`,
    );
  }
  if (headerField === null) throw new HeaderFault('batch message has no header');
  let table = fb.indirect(headerField);
  let dictionaryId: number | null = null;
  if (kind === MessageKind.DictionaryBatch) {
    dictionaryId = readId(fb, fb.field(table, 0));
    const dataField = fb.field(table, 1);
    if (dataField === null) throw new HeaderFault('dictionary batch has no data');
    table = fb.indirect(dataField);
  }
  const { rows, batch } = checkRecordBatch(fb, table, bodyLength, dictionaryId);
  // A dictionary's values are its one top-level field (record batches are checked against their schema).
  if (dictionaryId !== null && batch.nodes > 0 && batch.nodeLengths[0] !== rows) {
    throw new HeaderFault(
      `dictionary batch declares ${rows} rows but its values have ${batch.nodeLengths[0]}`,
    );
  }
  return { kind, bodyLength, rows, batch, layout: null };
}

/** Arrow's `MetadataVersion.V5`: unions lost their validity buffer. */
const METADATA_V5 = 4;

/**
 * Checks a Schema table as far as apache-arrow's decoder walks it, and works out what its batches must
 * list. Also used for the schema in a file footer.
 */
export function checkSchema(fb: FlatbufferView, schema: number, version = METADATA_V5): SchemaLayout {
  // A field table, its vtable entry and its offset in the parent's vector take at least 8 bytes.
  const walk: SchemaWalk = { fieldsLeft: Math.floor(fb.byteLength / 8), version, dictionaries: new Map() };
  const fields = fb.field(schema, 1);
  const topLevelNodes: number[] = [];
  const shape = { nodes: 0, buffers: 0 };
  if (fields !== null) {
    const vector = fb.vector(fields, 4);
    for (let i = 0; i < vector.length; i++) {
      topLevelNodes.push(shape.nodes);
      add(shape, checkField(fb, fb.indirect(vector.start + i * 4), 1, walk));
    }
  }
  checkKeyValues(fb, fb.field(schema, 2));
  const features = fb.field(schema, 3);
  if (features !== null) fb.vector(features, 8);
  return { ...shape, topLevelNodes, dictionaries: walk.dictionaries };
}

interface SchemaWalk {
  fieldsLeft: number;
  version: number;
  dictionaries: Map<number, FieldsShape>;
}

function add(total: FieldsShape, part: FieldsShape): void {
  total.nodes += part.nodes;
  total.buffers += part.buffers;
}

/** Checks one Field table and its children; returns the nodes and buffers it takes in a batch. */
function checkField(fb: FlatbufferView, field: number, depth: number, walk: SchemaWalk): FieldsShape {
  if (depth > MAX_FIELD_DEPTH) throw new HeaderFault(`schema nests fields deeper than ${MAX_FIELD_DEPTH}`);
  if (--walk.fieldsLeft < 0) {
    throw new HeaderFault(`schema declares more fields than its ${fb.byteLength} bytes of metadata can hold`);
  }
  checkString(fb, fb.field(field, 0));
  const tagField = fb.field(field, 2);
  const typeField = fb.field(field, 3);
  if (typeField === null) throw new HeaderFault('a schema field has no type');
  const shape = {
    nodes: 1,
    buffers: checkType(fb, tagField === null ? 0 : fb.u8(tagField), fb.indirect(typeField), walk),
  };
  const children = fb.field(field, 5);
  if (children !== null) {
    const vector = fb.vector(children, 4);
    for (let i = 0; i < vector.length; i++) {
      add(shape, checkField(fb, fb.indirect(vector.start + i * 4), depth + 1, walk));
    }
  }
  checkKeyValues(fb, fb.field(field, 6));
  const dictionaryField = fb.field(field, 4);
  if (dictionaryField === null) return shape;
  // Dictionary-encoded: one node with validity and indices here; the values come in dictionary batches.
  const dictionary = fb.indirect(dictionaryField);
  const indexType = fb.field(dictionary, 1);
  if (indexType !== null) fb.field(fb.indirect(indexType), 0);
  const id = readId(fb, fb.field(dictionary, 0));
  if (!walk.dictionaries.has(id)) walk.dictionaries.set(id, shape);
  return { nodes: 1, buffers: 2 };
}

/** Arrow's `Type` union tags (Schema.fbs) that this check tells apart; they run from 1 to 26. */
const TYPE = {
  Null: 1,
  Binary: 4,
  Utf8: 5,
  Timestamp: 10,
  Struct: 13,
  Union: 14,
  FixedSizeList: 16,
  LargeBinary: 19,
  LargeUtf8: 20,
  RunEndEncoded: 22,
  ListView: 25,
  LargeListView: 26,
} as const;
const MAX_TYPE_TAG = TYPE.LargeListView;

/**
 * Checks the type table of a field (its tag, its vtable and the vectors some types carry) and returns
 * the body buffers apache-arrow reads for it (view types: their variadic buffers come on top).
 */
function checkType(fb: FlatbufferView, tag: number, type: number, walk: SchemaWalk): number {
  if (tag < 1 || tag > MAX_TYPE_TAG) throw new HeaderFault(`a schema field has unknown type tag ${tag}`);
  const first = fb.field(type, 0);
  switch (tag) {
    case TYPE.Null:
    case TYPE.RunEndEncoded:
      return 0;
    case TYPE.Struct:
    case TYPE.FixedSizeList:
      return 1;
    case TYPE.Binary:
    case TYPE.Utf8:
    case TYPE.LargeBinary:
    case TYPE.LargeUtf8:
    case TYPE.ListView:
    case TYPE.LargeListView:
      return 3;
    case TYPE.Timestamp:
      checkString(fb, fb.field(type, 1));
      return 2;
    case TYPE.Union: {
      const typeIds = fb.field(type, 1);
      if (typeIds !== null) fb.vector(typeIds, 4);
      const dense = first !== null && fb.i16(first) === 1;
      return (dense ? 2 : 1) + (walk.version < METADATA_V5 ? 1 : 0);
    }
    default:
      return 2;
  }
}

function readId(fb: FlatbufferView, position: number | null): number {
  const id = position === null ? 0 : fb.i64(position);
  if (!Number.isSafeInteger(id)) throw new HeaderFault(`invalid dictionary id (${id})`);
  return id;
}

function checkString(fb: FlatbufferView, position: number | null): void {
  if (position !== null) fb.vector(position, 1);
}

/** Checks a vector of KeyValue tables (custom metadata). */
function checkKeyValues(fb: FlatbufferView, position: number | null): void {
  if (position === null) return;
  const vector = fb.vector(position, 4);
  for (let i = 0; i < vector.length; i++) {
    const entry = fb.indirect(vector.start + i * 4);
    checkString(fb, fb.field(entry, 0));
    checkString(fb, fb.field(entry, 1));
  }
}

function checkRecordBatch(
  fb: FlatbufferView,
  table: number,
  bodyLength: number,
  dictionaryId: number | null,
): { rows: number; batch: BatchShape } {
  const lengthField = fb.field(table, 0);
  const rows = lengthField === null ? 0 : fb.i64(lengthField);
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new HeaderFault(`record batch declares an invalid row count (${rows})`);
  }
  const nodeLengths: number[] = [];
  const nodesField = fb.field(table, 1);
  if (nodesField !== null) {
    const nodes = fb.vector(nodesField, 16);
    for (let i = 0; i < nodes.length; i++) {
      const length = fb.i64(nodes.start + i * 16);
      const nullCount = fb.i64(nodes.start + i * 16 + 8);
      if (!Number.isSafeInteger(length) || length < 0 || !(nullCount >= 0 && nullCount <= length)) {
        throw new HeaderFault(`field node ${i} declares length ${length} and null count ${nullCount}`);
      }
      nodeLengths.push(length);
    }
  }
  let buffers = 0;
  const buffersField = fb.field(table, 2);
  if (buffersField !== null) {
    const vector = fb.vector(buffersField, 16);
    for (let i = 0; i < vector.length; i++) {
      const offset = fb.i64(vector.start + i * 16);
      const length = fb.i64(vector.start + i * 16 + 8);
      if (!(offset >= 0 && length >= 0 && offset + length <= bodyLength)) {
        throw new HeaderFault(
          `body buffer ${i} spans bytes [${offset}, ${offset + length}) but the body has ${bodyLength} bytes`,
        );
      }
    }
    buffers = vector.length;
  }
  const variadicField = fb.field(table, 4);
  if (variadicField !== null) {
    const vector = fb.vector(variadicField, 8);
    for (let i = 0; i < vector.length; i++) {
      const count = fb.i64(vector.start + i * 8);
      if (!(count >= 0 && count <= buffers)) {
        throw new HeaderFault(`view column ${i} declares ${count} variadic buffers of the ${buffers} listed`);
      }
      buffers -= count;
    }
  }
  return { rows, batch: { nodes: nodeLengths.length, buffers, nodeLengths, dictionaryId } };
}
