import type { FlatbufferView } from '../flatbuffer-view.js';
import { checkString, HeaderFault, readDictionaryId } from './checks.js';
import { checkKeyValues } from './key-value.js';
import { DictionaryEncoding, Field, Int } from './slots.js';
import { checkType } from './type.js';

/** Deepest field nesting a schema may have (apache-arrow decodes nested fields recursively). */
export const MAX_FIELD_DEPTH = 64;

/** Field nodes and body buffers that a batch lists, or that a schema's fields need. */
export interface FieldsShape {
  nodes: number;
  buffers: number;
}

/** State shared by the walk over one schema's fields. */
export interface SchemaWalk {
  /** Fields the metadata can still hold: a cap on a schema whose vectors repeat one field. */
  fieldsLeft: number;
  /** The message's `MetadataVersion`. */
  version: number;
  /** What a dictionary batch must list, by dictionary id (first field with that id wins). */
  dictionaries: Map<number, FieldsShape>;
}

/** Adds `part`'s nodes and buffers to `total`. */
export function addShape(total: FieldsShape, part: FieldsShape): void {
  total.nodes += part.nodes;
  total.buffers += part.buffers;
}

/** Checks one `Field` table and its children; returns the nodes and buffers it takes in a batch. */
export function checkField(fb: FlatbufferView, field: number, depth: number, walk: SchemaWalk): FieldsShape {
  if (depth > MAX_FIELD_DEPTH) throw new HeaderFault(`schema nests fields deeper than ${MAX_FIELD_DEPTH}`);
  if (--walk.fieldsLeft < 0) {
    throw new HeaderFault(`schema declares more fields than its ${fb.byteLength} bytes of metadata can hold`);
  }
  checkString(fb, fb.field(field, Field.name));
  const tagField = fb.field(field, Field.type_type);
  const typeField = fb.field(field, Field.type);
  if (typeField === null) throw new HeaderFault('a schema field has no type');
  const shape = {
    nodes: 1,
    buffers: checkType(fb, tagField === null ? 0 : fb.u8(tagField), fb.indirect(typeField), walk.version),
  };
  const children = fb.field(field, Field.children);
  if (children !== null) {
    const vector = fb.vector(children, 4);
    for (let i = 0; i < vector.length; i++) {
      addShape(shape, checkField(fb, fb.indirect(vector.start + i * 4), depth + 1, walk));
    }
  }
  checkKeyValues(fb, fb.field(field, Field.custom_metadata));
  const dictionary = fb.field(field, Field.dictionary);
  if (dictionary === null) return shape;
  checkDictionaryEncoding(fb, fb.indirect(dictionary), shape, walk);
  // Dictionary-encoded: one node with validity and indices here; the values come in dictionary batches.
  return { nodes: 1, buffers: 2 };
}

/** Checks a `DictionaryEncoding` table and records what its dictionary batches must list (`values`). */
function checkDictionaryEncoding(
  fb: FlatbufferView,
  encoding: number,
  values: FieldsShape,
  walk: SchemaWalk,
): void {
  const indexType = fb.field(encoding, DictionaryEncoding.indexType);
  if (indexType !== null) fb.field(fb.indirect(indexType), Int.bitWidth);
  const id = readDictionaryId(fb, fb.field(encoding, DictionaryEncoding.id));
  if (!walk.dictionaries.has(id)) walk.dictionaries.set(id, values);
}
