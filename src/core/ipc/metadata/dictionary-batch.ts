import type { FlatbufferView } from '../flatbuffer-view.js';
import { HeaderFault, readDictionaryId } from './checks.js';
import { checkRecordBatch, type RecordBatchInfo } from './record-batch.js';
import { DictionaryBatch } from './slots.js';

/**
 * Checks a `DictionaryBatch` table: its id and the record batch of values it carries. `isDelta` is
 * apache-arrow's to read: a delta and a replacement list the same nodes and buffers.
 */
export function checkDictionaryBatch(fb: FlatbufferView, table: number, bodyLength: number): RecordBatchInfo {
  const dictionaryId = readDictionaryId(fb, fb.field(table, DictionaryBatch.id));
  const dataField = fb.field(table, DictionaryBatch.data);
  if (dataField === null) throw new HeaderFault('dictionary batch has no data');
  const info = checkRecordBatch(fb, fb.indirect(dataField), bodyLength, dictionaryId);
  const { rows, batch } = info;
  // A dictionary's values are its one top-level field (record batches are checked against their schema).
  if (batch.nodes > 0 && batch.nodeLengths[0] !== rows) {
    throw new HeaderFault(
      `dictionary batch declares ${rows} rows but its values have ${batch.nodeLengths[0]}`,
    );
  }
  return info;
}
