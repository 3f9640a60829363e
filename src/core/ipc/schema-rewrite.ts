import { Field, Message, Schema, Struct } from 'apache-arrow';
import { RecordBatch as BatchMetadata, BufferRegion, FieldNode } from 'apache-arrow/ipc/metadata/message';
import { encodeMessage, framedPrefix } from './encode-message.js';
import { dictionaryIdsOf, type FieldTree, readFieldTrees } from './field-tree.js';
import { FlatbufferView } from './flatbuffer-view.js';
import type { FramedMessage } from './framer.js';
import { MessageKind } from './metadata/message.js';
import type { SchemaLayout } from './metadata/schema.js';
import { TypeTag } from './metadata/type.js';
import {
  describeType,
  isExpandable,
  isUnreadable,
  readableCopy,
  unreadableKinds,
} from './unreadable-types.js';

/** A column left out of what apache-arrow decodes, because apache-arrow cannot decode its type. */
export interface UnreadableColumn {
  /** The field's name; `parent.child` for a struct's child. */
  name: string;
  /** Its Arrow type, e.g. `RunEndEncoded<Int32, Float64>`. */
  arrowType: string;
  reason: string;
}

/** What dropping the unreadable fields of a schema takes out of its messages, and what it keeps. */
interface Drops {
  columns: UnreadableColumn[];
  /** Record batch field nodes to drop, by index. */
  nodes: boolean[];
  /** The RunEndEncoded fields kept as structs: their field paths in the rewritten schema. */
  runEndEncoded: number[][];
  /** Their record batch field nodes, by index: each gets the validity buffer a struct has. */
  structNodes: boolean[];
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
 * A RunEndEncoded column or struct child of readable children is kept instead, as the struct of its
 * `run_ends` and `values`: its node gets an empty validity buffer (and no nulls), so that apache-arrow
 * decodes its children (decompressed, dictionaries resolved) and the library expands the runs.
 */
export class SchemaRewrite {
  /** The fields taken out. */
  readonly columns: UnreadableColumn[];
  /** The field paths (indices from the top level down) of the RunEndEncoded fields kept as structs. */
  readonly runEndEncoded: number[][];
  /** The re-encoded schema message (marker, length and metadata). */
  readonly schemaPrefix: Uint8Array;
  readonly #layout: SchemaLayout;
  readonly #drops: Drops;

  private constructor(schemaPrefix: Uint8Array, layout: SchemaLayout, drops: Drops) {
    this.schemaPrefix = schemaPrefix;
    this.columns = drops.columns;
    this.runEndEncoded = drops.runEndEncoded;
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
    const drops: Drops = {
      columns: [],
      nodes: [],
      runEndEncoded: [],
      structNodes: [],
      dictionaries: new Set(),
      keptDictionaries: new Set(),
    };
    const walk = new FieldWalk(header.layout, drops);
    const nodes = header.layout.topLevelNodes;
    const fields = walk.fields(trees, schema.fields, nodes, '', []);
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
        const written = batch.nodes[index] as FieldNode;
        if (this.#drops.structNodes[index]) {
          // A run-end encoded node has no buffer and no nulls; as a struct it has a validity buffer.
          nodes.push(new FieldNode(written.length, 0));
          buffers.push(new BufferRegion(0, 0));
        } else nodes.push(written);
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
   * The fields kept of sibling fields (`trees`, decoded as `decoded`, at record batch nodes `nodes`):
   * `prefix` starts their column names, `path` is their parent's path in the rewritten schema.
   */
  fields(
    trees: readonly FieldTree[],
    decoded: readonly Field[],
    nodes: readonly number[],
    prefix: string,
    path: readonly number[],
  ): Field[] {
    const kept: Field[] = [];
    trees.forEach((tree, i) => {
      const name = `${prefix}${tree.name}`;
      const field = this.field(tree, decoded[i] as Field, nodes[i] ?? -1, name, [...path, kept.length]);
      if (field) kept.push(field);
    });
    return kept;
  }

  /**
   * The field as kept (a struct without its unreadable children, a RunEndEncoded field as the struct of
   * its children), or `null` when it is dropped. `node` is its record batch node, `name` its column
   * name, `path` where it lands in the rewritten schema if kept.
   */
  field(tree: FieldTree, field: Field, node: number, name: string, path: number[]): Field | null {
    const expanded = isExpandable(tree) && node >= 0;
    if (expanded) {
      this.drops.runEndEncoded.push(path);
      this.drops.structNodes[node] = true;
    }
    if (expanded || !isUnreadable(tree)) {
      dictionaryIdsOf(tree, this.drops.keptDictionaries);
      return field;
    }
    if (tree.tag === TypeTag.Struct_ && tree.dictionaryId === null && node >= 0) {
      const decoded = field.type.children as Field[];
      const children = this.fields(tree.children, decoded, this.#childNodes(node), `${name}.`, path);
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
