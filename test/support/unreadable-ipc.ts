import { Message, MetadataVersion, Schema, type Table, tableToIPC } from 'apache-arrow';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import {
  RecordBatch as BatchMetadata,
  type BufferRegion,
  type FieldNode,
} from 'apache-arrow/ipc/metadata/message';
import { FlatbufferView } from '../../src/core/ipc/flatbuffer-view.js';
import {
  Field,
  Footer as FooterSlot,
  Message as MessageSlot,
  Schema as SchemaSlot,
} from '../../src/core/ipc/metadata/slots.js';
import { assemble, type Block, splitMessages } from './ipc-bytes.js';

// IPC with types apache-arrow cannot write (RunEndEncoded, ListView): apache-arrow writes fields of the
// same children (a struct, a list) and columns that lend buffers; then the schema's type tags are
// patched, and each record batch's metadata lists the nodes and buffers the new types lay out. Bodies
// are kept as written.

/** How to turn what apache-arrow wrote into the wanted types. */
export interface Retype {
  /** New type tags, by field path (`a`, or `s.r` for a struct's child). */
  tags: Readonly<Record<string, number>>;
  /** Top-level fields written only to lend their buffers: left out of the schema. */
  helpers?: readonly string[];
  /** Each record batch's field nodes, from those written. */
  nodes?: (nodes: FieldNode[]) => FieldNode[];
  /** Each record batch's buffers, from those written (and its nodes as written). */
  buffers: (buffers: BufferRegion[], nodes: FieldNode[]) => BufferRegion[];
}

/**
 * `table` written by apache-arrow, then retyped as `edit` says: a stream, a file, or a file whose
 * schema is only in its footer (`footer-schema`, as apache-arrow writes files). `written` is `table` as
 * some writer wrote it (compressed bodies, say), when not as `tableToIPC` writes a stream.
 */
export function retyped(
  table: Table,
  edit: Retype,
  format: 'stream' | 'file' | 'footer-schema',
  written: Uint8Array = tableToIPC(table, 'stream'),
): Uint8Array {
  const helpers = edit.helpers ?? [];
  const schema = new Schema(
    table.schema.fields.filter((f) => !helpers.includes(f.name)),
    table.schema.metadata,
  );
  const { messages } = splitMessages(written);
  // The written schema message, when it needs no field taken out: it keeps what the writer said (its
  // endianness, say).
  const writtenSchema = messages.find((m) => Message.decode(m.metadata).isSchema())?.metadata;
  const schemaMetadata =
    helpers.length === 0 && writtenSchema ? writtenSchema.slice() : Message.encode(Message.from(schema));
  patchTags(schemaMetadata, schemaOfMessage(schemaMetadata), edit.tags);
  const out = messages.map(({ metadata, body }) => {
    const message = Message.decode(metadata);
    if (message.isSchema()) return { metadata: schemaMetadata, body, kind: 'schema' as const };
    if (message.isDictionaryBatch()) return { metadata, body, kind: 'dictionary' as const };
    const batch = message.header() as BatchMetadata;
    const nodes = edit.nodes ? edit.nodes(batch.nodes) : batch.nodes;
    const buffers = edit.buffers(batch.buffers, batch.nodes);
    const rewritten = new BatchMetadata(batch.length, nodes, buffers, batch.compression);
    return {
      metadata: Message.encode(Message.from(rewritten, message.bodyLength)),
      body,
      kind: 'record' as const,
    };
  });
  const footer = (records: Block[], dictionaries: Block[]) => {
    const toBlock = (b: Block) => new FileBlock(b.metaDataLength, b.bodyLength, b.offset);
    const bytes = Footer.encode(
      new Footer(schema, MetadataVersion.V5, records.map(toBlock), dictionaries.map(toBlock)),
    );
    const fb = new FlatbufferView(bytes);
    patchTags(bytes, fb.indirect(fb.field(fb.root(), FooterSlot.schema) as number), edit.tags);
    return bytes;
  };
  const kept = format === 'footer-schema' ? out.filter((m) => m.kind !== 'schema') : out;
  return assemble(kept, format === 'stream' ? null : footer);
}

function schemaOfMessage(metadata: Uint8Array): number {
  const fb = new FlatbufferView(metadata);
  return fb.indirect(fb.field(fb.root(), MessageSlot.header) as number);
}

/** Sets the type tag of each field that `tags` names, in the schema table at `schema`. */
function patchTags(bytes: Uint8Array, schema: number, tags: Readonly<Record<string, number>>): void {
  const fb = new FlatbufferView(bytes);
  for (const [path, tag] of Object.entries(tags)) {
    let fields = fb.field(schema, SchemaSlot.fields);
    let field = -1;
    for (const name of path.split('.')) {
      const vector = fb.vector(fields as number, 4);
      const all = Array.from({ length: vector.length }, (_, i) => fb.indirect(vector.start + i * 4));
      field = all.find((f) => fb.string(fb.field(f, Field.name)) === name) ?? -1;
      if (field < 0) throw new Error(`no field ${path}`);
      fields = fb.field(field, Field.children);
    }
    bytes[fb.field(field, Field.type_type) as number] = tag;
  }
}
