import { FlatbufferView } from './flatbuffer-view.js';

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
}

/** A fault in a message's metadata; the framer adds the byte offset and turns it into a `DecodeError`. */
export class HeaderFault extends Error {}

/**
 * Reads a message's metadata flatbuffer and checks what apache-arrow would otherwise trust:
 * that every body buffer lies inside the body and that lengths and counts are sane.
 */
export function readMessageHeader(metadata: Uint8Array): MessageHeaderInfo {
  const fb = new FlatbufferView(metadata);
  const message = fb.root();
  const kindField = fb.field(message, 1);
  const kind = kindField === null ? 0 : fb.u8(kindField);
  const bodyField = fb.field(message, 3);
  const bodyLength = bodyField === null ? 0 : fb.i64(bodyField);
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) {
    throw new HeaderFault(`message declares an invalid body length (${bodyLength})`);
  }
  let rows = 0;
  if (kind === MessageKind.RecordBatch || kind === MessageKind.DictionaryBatch) {
    const headerField = fb.field(message, 2);
    if (headerField === null) throw new HeaderFault('batch message has no header');
    let batch = fb.indirect(headerField);
    if (kind === MessageKind.DictionaryBatch) {
      const dataField = fb.field(batch, 1);
      if (dataField === null) throw new HeaderFault('dictionary batch has no data');
      batch = fb.indirect(dataField);
    }
    rows = checkRecordBatch(fb, batch, bodyLength);
  } else if (kind !== MessageKind.Schema) {
    throw new HeaderFault(
      `unsupported message type ${kind} (expected Schema, DictionaryBatch or RecordBatch)`,
    );
  }
  return { kind, bodyLength, rows };
}

function checkRecordBatch(fb: FlatbufferView, batch: number, bodyLength: number): number {
  const lengthField = fb.field(batch, 0);
  const rows = lengthField === null ? 0 : fb.i64(lengthField);
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new HeaderFault(`record batch declares an invalid row count (${rows})`);
  }
  const nodesField = fb.field(batch, 1);
  if (nodesField !== null) {
    const nodes = fb.vector(nodesField, 16);
    for (let i = 0; i < nodes.length; i++) {
      const length = fb.i64(nodes.start + i * 16);
      const nullCount = fb.i64(nodes.start + i * 16 + 8);
      if (!Number.isSafeInteger(length) || length < 0 || !(nullCount >= 0 && nullCount <= length)) {
        throw new HeaderFault(`field node ${i} declares length ${length} and null count ${nullCount}`);
      }
    }
  }
  const buffersField = fb.field(batch, 2);
  if (buffersField !== null) {
    const buffers = fb.vector(buffersField, 16);
    for (let i = 0; i < buffers.length; i++) {
      const offset = fb.i64(buffers.start + i * 16);
      const length = fb.i64(buffers.start + i * 16 + 8);
      if (!(offset >= 0 && length >= 0 && offset + length <= bodyLength)) {
        throw new HeaderFault(
          `body buffer ${i} spans bytes [${offset}, ${offset + length}) but the body has ${bodyLength} bytes`,
        );
      }
    }
  }
  return rows;
}
