import type { FlatbufferView } from './flatbuffer-view.js';
import { readDictionaryId } from './metadata/checks.js';
import { DictionaryEncoding, Field, Message, Schema } from './metadata/slots.js';

/** A schema field as its flatbuffer has it: what telling the fields apache-arrow can decode needs. */
export interface FieldTree {
  name: string;
  /** The `Type` union tag (0 when absent). */
  tag: number;
  /** Where the tag lies in the metadata, to patch it; `null` when absent. */
  tagAt: number | null;
  /** Dictionary-encoded: the dictionary id (its children are then the dictionary values'). */
  dictionaryId: number | null;
  children: FieldTree[];
}

/** The fields of a Schema message's metadata, already checked by `checkSchema`. */
export function readFieldTrees(fb: FlatbufferView): FieldTree[] {
  const header = fb.field(fb.root(), Message.header);
  return header === null ? [] : readSchemaFields(fb, fb.indirect(header));
}

/** The fields of the Schema table at `schema` (a message's, or a file footer's). */
export function readSchemaFields(fb: FlatbufferView, schema: number): FieldTree[] {
  return readFields(fb, fb.field(schema, Schema.fields));
}

/** The fields of the vector at `position` (a schema's fields or a field's children). */
function readFields(fb: FlatbufferView, position: number | null): FieldTree[] {
  if (position === null) return [];
  const vector = fb.vector(position, 4);
  return Array.from({ length: vector.length }, (_, i) => readField(fb, fb.indirect(vector.start + i * 4)));
}

function readField(fb: FlatbufferView, field: number): FieldTree {
  const tagAt = fb.field(field, Field.type_type);
  const dictionary = fb.field(field, Field.dictionary);
  const idAt = dictionary === null ? null : fb.field(fb.indirect(dictionary), DictionaryEncoding.id);
  return {
    name: fb.string(fb.field(field, Field.name)),
    tag: tagAt === null ? 0 : fb.u8(tagAt),
    tagAt,
    dictionaryId: dictionary === null ? null : readDictionaryId(fb, idAt),
    children: readFields(fb, fb.field(field, Field.children)),
  };
}

/** The dictionary ids a field and its descendants use. */
export function dictionaryIdsOf(tree: FieldTree, into: Set<number> = new Set()): Set<number> {
  if (tree.dictionaryId !== null) into.add(tree.dictionaryId);
  for (const child of tree.children) dictionaryIdsOf(child, into);
  return into;
}
