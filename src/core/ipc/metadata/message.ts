import { FlatbufferView } from '../flatbuffer-view.js';
import { HeaderFault, UnsupportedFault } from './checks.js';
import { checkDictionaryBatch } from './dictionary-batch.js';
import { checkKeyValues } from './key-value.js';
import { type BatchShape, checkRecordBatch, type RecordBatchInfo } from './record-batch.js';
import { checkSchema, type SchemaLayout } from './schema.js';
import { Message } from './slots.js';
import { METADATA_V4 } from './type.js';

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

/**
 * Reads a message's metadata flatbuffer and checks what apache-arrow would otherwise trust: every
 * vector, string and table in bounds, every body buffer inside the body, lengths and counts sane, and
 * a schema's nesting and size bounded, so that lying metadata fails here instead of looping, recursing
 * or allocating in the decoder.
 */
export function readMessageHeader(metadata: Uint8Array): MessageHeaderInfo {
  const fb = new FlatbufferView(metadata);
  const message = fb.root();
  const versionField = fb.field(message, Message.version);
  const version = versionField === null ? 0 : fb.i16(versionField);
  if (version < METADATA_V4) {
    // Before V4 (Arrow 0.8, 2017) buffers were laid out differently; no writer still produces them.
    throw new UnsupportedFault(
      `message metadata version V${version + 1} predates V4 (Arrow 0.8): only V4 and V5 are read`,
    );
  }
  const kindField = fb.field(message, Message.header_type);
  const kind = kindField === null ? 0 : fb.u8(kindField);
  const bodyField = fb.field(message, Message.bodyLength);
  const bodyLength = bodyField === null ? 0 : fb.i64(bodyField);
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) {
    throw new HeaderFault(`message declares an invalid body length (${bodyLength})`);
  }
  checkKeyValues(fb, fb.field(message, Message.custom_metadata));
  const headerField = fb.field(message, Message.header);
  if (kind === MessageKind.Schema) {
    if (headerField === null) throw new HeaderFault('schema message has no schema');
    const layout = checkSchema(fb, fb.indirect(headerField), version);
    return { kind, bodyLength, rows: 0, batch: null, layout };
  }
  const { rows, batch } = checkBatchHeader(fb, kind, headerField, bodyLength);
  return { kind, bodyLength, rows, batch, layout: null };
}

/** Checks the header of a record or dictionary batch message; other kinds are refused. */
function checkBatchHeader(
  fb: FlatbufferView,
  kind: number,
  headerField: number | null,
  bodyLength: number,
): RecordBatchInfo {
  if (kind !== MessageKind.RecordBatch && kind !== MessageKind.DictionaryBatch) {
    throw new HeaderFault(
      `unsupported message type ${kind} (expected Schema, DictionaryBatch or RecordBatch)`,
    );
  }
  if (headerField === null) throw new HeaderFault('batch message has no header');
  const table = fb.indirect(headerField);
  return kind === MessageKind.DictionaryBatch
    ? checkDictionaryBatch(fb, table, bodyLength)
    : checkRecordBatch(fb, table, bodyLength, null);
}
