import { Field, Message, Schema, Struct } from 'apache-arrow';
import { RecordBatch as BatchMetadata } from 'apache-arrow/ipc/metadata/message';
import { encodeMessage, framedPrefix } from './encode-message.js';
import { dictionaryIdsOf, type FieldTree, readFieldTrees } from './field-tree.js';
import { FlatbufferView } from './flatbuffer-view.js';
import type { FramedMessage } from './framer.js';
import { MessageKind } from './metadata/message.js';
import type { SchemaLayout } from './metadata/schema.js';
import { TypeTag } from './metadata/type.js';
import { describeType, isUnreadable, readableCopy, unreadableKinds } from './unreadable-types.js';

/** A column left out of what apache-arrow decodes, because apache-arrow cannot decode its type. */
export interface UnreadableColumn {
  /** The field's name; `parent.child` for a struct's child. */
  name: string;
  /** Its Arrow type, e.g. `RunEndEncoded<Int32, Float64>`. */
  arrowType: string;
  reason: string;
}

/** What dropping the unreadable fields of a schema takes out of its messages. */
interface Drops {
  columns: UnreadableColumn[];
  /** Record batch field nodes to drop, by index. */
  nodes: boolean[];
  /** Dictionary ids used by dropped fields. */
  dictionaries: Set<number>;
  /** Dictionary ids used by kept fields. */
  keptDictionaries: Set<number>;
}

/**
 * Takes the fields apache-arrow 21 cannot decode (RunEndEncoded, ListView, LargeListView, or a field
 * holding one) out of a schema and its batches, so that the other columns load: the schema is
 * re-encoded without them (a struct loses just the child), each record batch's metadata without their
 * field nodes and buffers (the body stays as it is), and their dictionaries' batches are not fed.
 */
export class SchemaRewrite {
  /** The fields taken out. */
  readonly columns: UnreadableColumn[];
  /** The re-encoded schema message (marker, length and metadata). */
  readonly schemaPrefix: Uint8Array;
  readonly #layout: SchemaLayout;
  readonly #drops: Drops;

  private constructor(schemaPrefix: Uint8Array, layout: SchemaLayout, drops: Drops) {
    this.schemaPrefix = schemaPrefix;
    this.columns = drops.columns;
    this.#layout = layout;
    this.#drops = drops;
  }

  /** The rewrite for a Schema message, or `null` when apache-arrow can decode all of it. */
  static of(message: FramedMessage): SchemaRewrite | null {
    const { header, prefix } = message;
    const metadata = prefix.subarray(8);
    const trees = readFieldTrees(new FlatbufferView(metadata));
    if (header.layout === null || !trees.some(isUnreadable)) return null;
    const decoded = Message.decode(readableCopy(metadata, trees));
    const schema = decoded.header() as Schema;
    const drops: Drops = { columns: [], nodes: [], dictionaries: new Set(), keptDictionaries: new Set() };
    const walk = new FieldWalk(header.layout, drops);
    const fields = trees.flatMap((tree, i) => {
      const kept = walk.field(
        tree,
        schema.fields[i] as Field,
        header.layout?.topLevelNodes[i] ?? -1,
        tree.name,
      );
      return kept ? [kept] : [];
    });
    // A dictionary that a kept field shares with a dropped one is still fed.
    for (const id of drops.keptDictionaries) drops.dictionaries.delete(id);
    const rewritten = new Schema(fields, schema.metadata, undefined, schema.metadataVersion);
    const encoded = encodeMessage(Message.from(rewritten), decoded.version);
    return new SchemaRewrite(framedPrefix(encoded), header.layout, drops);
  }

  /** The prefix to feed apache-arrow for a batch message, or `null` to leave the message out. */
  prefixOf(message: FramedMessage): Uint8Array | null {
    const { header, prefix } = message;
    if (header.kind === MessageKind.Schema) return this.schemaPrefix;
    const id = header.batch?.dictionaryId ?? null;
    if (id !== null) return this.#drops.dictionaries.has(id) ? null : prefix;
    if (header.kind !== MessageKind.RecordBatch) return prefix;
    return framedPrefix(this.#recordBatch(prefix.subarray(8)));
  }

  /** A record batch's metadata without the dropped fields' nodes, buffers and variadic buffer counts. */
  #recordBatch(metadata: Uint8Array): Uint8Array {
    const message = Message.decode(metadata);
    const batch = message.header() as BatchMetadata;
    const nodes = [];
    const buffers = [];
    const counts = [];
    let buffer = 0;
    let view = 0;
    for (const [index, node] of this.#layout.layout.entries()) {
      const variadic = node.variadic ? (batch.variadicBufferCounts[view++] ?? 0) : 0;
      const taken = node.buffers.length + variadic;
      if (!this.#drops.nodes[index]) {
        nodes.push(batch.nodes[index] as (typeof batch.nodes)[number]);
        buffers.push(...batch.buffers.slice(buffer, buffer + taken));
        if (node.variadic) counts.push(variadic);
      }
      buffer += taken;
    }
    const { length, compression } = batch;
    const kept = new BatchMetadata(length, nodes, buffers, compression, counts, message.metadata);
    return encodeMessage(Message.from(kept, message.bodyLength), message.version);
  }
}

/** The walk over a schema's fields that decides, field by field, what is kept. */
class FieldWalk {
  /** One past the last node of each node's subtree. */
  readonly #ends: number[];

  constructor(
    readonly layout: SchemaLayout,
    readonly drops: Drops,
  ) {
    const nodes = layout.layout;
    this.#ends = nodes.map((_, i) => i + 1);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const parent = (nodes[i] as { parent: number }).parent;
      if (parent >= 0) this.#ends[parent] = Math.max(this.#ends[parent] as number, this.#ends[i] as number);
    }
  }

  /**
   * The field as kept (a struct without its unreadable children), or `null` when it is dropped. `node`
   * is its record batch node, `name` its column name.
   */
  field(tree: FieldTree, field: Field, node: number, name: string): Field | null {
    if (!isUnreadable(tree)) {
      dictionaryIdsOf(tree, this.drops.keptDictionaries);
      return field;
    }
    if (tree.tag === TypeTag.Struct_ && tree.dictionaryId === null && node >= 0) {
      const nodes = this.#childNodes(node);
      const children = tree.children.flatMap((child, i) => {
        const at = nodes[i] ?? -1;
        const kept = this.field(child, field.type.children[i] as Field, at, `${name}.${child.name}`);
        return kept ? [kept] : [];
      });
      return new Field(field.name, new Struct(children), field.nullable, field.metadata);
    }
    this.#drop(tree, field, node, name);
    return null;
  }

  #drop(tree: FieldTree, field: Field, node: number, name: string): void {
    const arrowType = describeType(tree, field);
    const kinds = [...unreadableKinds(tree)].join(', ');
    const reason = `Arrow type ${arrowType} cannot be decoded (apache-arrow 21 reads no ${kinds})`;
    this.drops.columns.push({ name, arrowType, reason });
    for (let i = node; i >= 0 && i < (this.#ends[node] ?? 0); i++) this.drops.nodes[i] = true;
    dictionaryIdsOf(tree, this.drops.dictionaries);
  }

  /** The nodes of a node's children, in order. */
  #childNodes(node: number): number[] {
    const children: number[] = [];
    for (let i = node + 1; i < (this.#ends[node] ?? 0); i++) {
      if (this.layout.layout[i]?.parent === node) children.push(i);
    }
    return children;
  }
}
