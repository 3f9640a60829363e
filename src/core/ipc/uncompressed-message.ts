import { Message } from 'apache-arrow';
import {
  RecordBatch as BatchMetadata,
  BufferRegion,
  DictionaryBatch,
} from 'apache-arrow/ipc/metadata/message';
import { encodeMessage, framedPrefix } from './encode-message.js';
import type { FramedMessage } from './framer.js';
import type { BufferRegion as Region } from './metadata/record-batch.js';

/**
 * `message` (a compressed record or dictionary batch) with `body`, its buffers decompressed and laid out
 * at `regions`: the metadata is re-encoded without its compression and with the new buffers.
 */
export function uncompressedMessage(
  message: FramedMessage,
  body: Uint8Array,
  regions: Region[],
): FramedMessage {
  const decoded = Message.decode(message.prefix.subarray(8));
  const header = decoded.header() as BatchMetadata | DictionaryBatch;
  const data = header instanceof DictionaryBatch ? header.data : header;
  const buffers = regions.map(({ offset, length }) => new BufferRegion(offset, length));
  const { length, nodes, variadicBufferCounts } = data;
  const batch = new BatchMetadata(length, nodes, buffers, null, variadicBufferCounts, decoded.metadata);
  const rewritten =
    header instanceof DictionaryBatch ? new DictionaryBatch(batch, header.id, header.isDelta) : batch;
  const metadata = encodeMessage(Message.from(rewritten, body.byteLength), decoded.version);
  const shape = message.header.batch && { ...message.header.batch, compression: null, regions };
  const { pooled: _, ...rest } = message;
  return {
    ...rest,
    prefix: framedPrefix(metadata),
    body,
    header: { ...message.header, bodyLength: body.byteLength, batch: shape },
  };
}
