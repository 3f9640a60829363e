import type { FlatbufferView } from '../flatbuffer-view.js';
import { HeaderFault } from './checks.js';
import {
  addShape,
  checkField,
  type FieldsLayout,
  type NodeLayout,
  type SchemaWalk,
  topLevel,
} from './field.js';
import { checkKeyValues } from './key-value.js';
import { Schema } from './slots.js';
import { METADATA_V5 } from './type.js';

/** What a schema's batches must list, as apache-arrow will read them. */
export interface SchemaLayout extends FieldsLayout {
  /** Index of each top-level field's node among a record batch's field nodes. */
  topLevelNodes: readonly number[];
  /** What a dictionary batch must list, by dictionary id. */
  dictionaries: ReadonlyMap<number, FieldsLayout>;
  /** The schema's `endianness` is Big: every batch body stores its numbers big-endian. */
  bigEndian: boolean;
}

/** Arrow's `Endianness` (Schema.fbs). */
const Endianness = { Little: 0, Big: 1 } as const;

/**
 * Checks a Schema table as far as apache-arrow's decoder walks it, and works out what its batches must
 * list. Also used for the schema in a file footer.
 */
export function checkSchema(fb: FlatbufferView, schema: number, version = METADATA_V5): SchemaLayout {
  // A field table, its vtable entry and its offset in the parent's vector take at least 8 bytes.
  const walk: SchemaWalk = { fieldsLeft: Math.floor(fb.byteLength / 8), version, dictionaries: new Map() };
  const fields = fb.field(schema, Schema.fields);
  const topLevelNodes: number[] = [];
  const layout: NodeLayout[] = [];
  const shape = { nodes: 0, buffers: 0 };
  if (fields !== null) {
    const vector = fb.vector(fields, 4);
    for (let i = 0; i < vector.length; i++) {
      topLevelNodes.push(shape.nodes);
      addShape(shape, checkField(fb, fb.indirect(vector.start + i * 4), 1, walk, topLevel(layout)));
    }
  }
  checkKeyValues(fb, fb.field(schema, Schema.custom_metadata));
  // `Feature` is a long enum: only the vector's bounds matter.
  const features = fb.field(schema, Schema.features);
  if (features !== null) fb.vector(features, 8);
  const bigEndian = readEndianness(fb, fb.field(schema, Schema.endianness)) === Endianness.Big;
  return { ...shape, layout, topLevelNodes, dictionaries: walk.dictionaries, bigEndian };
}

/** A schema's `endianness` (absent: Little). */
function readEndianness(fb: FlatbufferView, position: number | null): number {
  const endianness = position === null ? Endianness.Little : fb.i16(position);
  if (endianness !== Endianness.Little && endianness !== Endianness.Big) {
    throw new HeaderFault(`schema declares unknown endianness ${endianness}`);
  }
  return endianness;
}
