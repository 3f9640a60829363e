import { Message, MessageHeader } from 'apache-arrow';

/** Where each message of an IPC stream's bytes ends, and whether it is a record batch. */
export function messageEnds(bytes: Uint8Array): Array<{ end: number; batch: boolean }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<{ end: number; batch: boolean }> = [];
  let at = 0;
  while (at + 8 <= bytes.byteLength) {
    const marker = view.getInt32(at, true) === -1;
    const length = view.getInt32(marker ? at + 4 : at, true);
    const start = at + (marker ? 8 : 4);
    if (length === 0) break; // the end-of-stream marker
    const message = Message.decode(bytes.subarray(start, start + length));
    at = start + length + Number(message.bodyLength);
    out.push({ end: at, batch: message.headerType === MessageHeader.RecordBatch });
  }
  return out;
}

/**
 * Offsets where a stream's bytes split into the pieces a live source sends: the schema alone, then each
 * record batch with the messages before it (dictionaries); the end-of-stream marker follows the last.
 */
export function groupEnds(bytes: Uint8Array): number[] {
  const messages = messageEnds(bytes);
  const ends = messages.length > 0 ? [(messages[0] as { end: number }).end] : [];
  for (const message of messages.slice(1)) if (message.batch) ends.push(message.end);
  return ends;
}
