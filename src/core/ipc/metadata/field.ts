import type { FlatbufferView } from '../flatbuffer-view.js';
import { HeaderFault, readDictionaryId } from './checks.js';
import { checkKeyValues } from './key-value.js';
import { DictionaryEncoding, Field, Int } from './slots.js';
import { checkType } from './type.js';
import { BITS, type BufferKind, bitWidth, type ChildLength, SAME_LENGTH, UNBOUNDED } from './type-layout.js';

/** Deepest field nesting a schema may have (apache-arrow decodes nested fields recursively). */
export const MAX_FIELD_DEPTH = 64;

/** Field nodes and body buffers that a batch lists, or that a schema's fields need. */
export interface FieldsShape {
  nodes: number;
  buffers: number;
}

/** One field node of a batch, as its schema field lays it out. */
export interface NodeLayout {
  /** The field's name. */
  name: string;
  /** The top-level field (column) it belongs to. */
  column: string;
  /** Index of its parent node in the same list; -1 for a top-level node, whose length is the batch's. */
  parent: number;
  /** How its parent's length bounds its own. */
  length: ChildLength;
  /** Its body buffers, in order. */
  buffers: readonly BufferKind[];
  /** How its length bounds its children's. */
  children: ChildLength;
  /** View types: its variadic buffers follow its fixed ones. */
  variadic: boolean;
}

/** What a batch must list, with the layout of each of its field nodes. */
export interface FieldsLayout extends FieldsShape {
  /** Each field node in batch order (depth first). */
  layout: readonly NodeLayout[];
}

/** State shared by the walk over one schema's fields. */
export interface SchemaWalk {
  /** Fields the metadata can still hold: a cap on a schema whose vectors repeat one field. */
  fieldsLeft: number;
  /** The message's `MetadataVersion`. */
  version: number;
  /** What a dictionary batch must list, by dictionary id (first field with that id wins). */
  dictionaries: Map<number, FieldsLayout>;
}

/** Where a field's node goes: into which list, under which parent, bounded how, in which column. */
export interface Placement {
  /** The nodes of a record batch, or of a dictionary batch; the field's nodes are appended to it. */
  nodes: NodeLayout[];
  /** Index of the parent node in `nodes`; -1 for a top-level field. */
  parent: number;
  /** How the parent's length bounds the field's. */
  length: ChildLength;
  /** The top-level field it belongs to; `null` for a top-level field, which is its own column. */
  column: string | null;
}

/** Where a top-level field goes: at the end of `nodes`, as long as the batch. */
export function topLevel(nodes: NodeLayout[]): Placement {
  return { nodes, parent: -1, length: SAME_LENGTH, column: null };
}

/** Adds `part`'s nodes and buffers to `total`. */
export function addShape(total: FieldsShape, part: FieldsShape): void {
  total.nodes += part.nodes;
  total.buffers += part.buffers;
}

/**
 * Checks one `Field` table and its children; appends their nodes where `place` says and returns the
 * nodes and buffers they take in a batch.
 */
export function checkField(
  fb: FlatbufferView,
  field: number,
  depth: number,
  walk: SchemaWalk,
  place: Placement,
): FieldsShape {
  if (depth > MAX_FIELD_DEPTH) throw new HeaderFault(`schema nests fields deeper than ${MAX_FIELD_DEPTH}`);
  if (--walk.fieldsLeft < 0) {
    throw new HeaderFault(`schema declares more fields than its ${fb.byteLength} bytes of metadata can hold`);
  }
  const name = fb.string(fb.field(field, Field.name));
  const tagField = fb.field(field, Field.type_type);
  const typeField = fb.field(field, Field.type);
  if (typeField === null) throw new HeaderFault('a schema field has no type');
  const type = checkType(fb, tagField === null ? 0 : fb.u8(tagField), fb.indirect(typeField), walk.version);
  const dictionary = fb.field(field, Field.dictionary);
  const column = place.column ?? name;
  // A dictionary's values come in dictionary batches, where they are the top-level node.
  const here = dictionary === null ? place : { ...topLevel([]), column };
  const index = here.nodes.push({ name, column, parent: here.parent, length: place.length, ...type }) - 1;
  const shape = { nodes: 1, buffers: type.buffers.length };
  const children = fb.field(field, Field.children);
  if (children !== null) {
    const vector = fb.vector(children, 4);
    const under: Placement = { nodes: here.nodes, parent: index, length: type.children, column };
    for (let i = 0; i < vector.length; i++) {
      addShape(shape, checkField(fb, fb.indirect(vector.start + i * 4), depth + 1, walk, under));
    }
  }
  checkKeyValues(fb, fb.field(field, Field.custom_metadata));
  if (dictionary === null) return shape;
  const values = { ...shape, layout: here.nodes };
  const indices = checkDictionaryEncoding(fb, fb.indirect(dictionary), values, walk);
  // Dictionary-encoded: one node with validity and indices here.
  const { parent, length } = place;
  const buffers = [BITS, indices];
  place.nodes.push({ name, column, parent, length, buffers, children: UNBOUNDED, variadic: false });
  return { nodes: 1, buffers: 2 };
}

/**
 * Checks a `DictionaryEncoding` table, records what its dictionary batches must list (`values`) and
 * returns its indices' buffer kind.
 */
function checkDictionaryEncoding(
  fb: FlatbufferView,
  encoding: number,
  values: FieldsLayout,
  walk: SchemaWalk,
): BufferKind {
  const indexType = fb.field(encoding, DictionaryEncoding.indexType);
  let indices = bitWidth(32); // the default index type is Int32
  if (indexType !== null) {
    const bits = fb.field(fb.indirect(indexType), Int.bitWidth);
    indices = bitWidth(bits === null ? 0 : fb.i32(bits));
  }
  const id = readDictionaryId(fb, fb.field(encoding, DictionaryEncoding.id));
  if (!walk.dictionaries.has(id)) walk.dictionaries.set(id, values);
  return indices;
}
