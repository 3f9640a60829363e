import { Message } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { ArgumentError, DecodeError } from '../errors.js';
import type { ReadTail } from '../source/byte-source.js';
import { END_OF_STREAM_MARKER, isEndOfStreamMarker } from '../source/end-of-stream-marker.js';
import { keepLast } from '../source/tail-bytes.js';
import { encodeMessage, framedPrefix } from './encode-message.js';
import { corrupt, readHeaderAt } from './faults.js';
import { readFieldTrees, readSchemaFields } from './field-tree.js';
import { FlatbufferView } from './flatbuffer-view.js';
import type { FramedMessage } from './framer.js';
import { HeaderFault } from './metadata/checks.js';
import { checkSchema } from './metadata/schema.js';
import { Footer as FooterSlot } from './metadata/slots.js';
import { METADATA_V4 } from './metadata/type.js';
import type { PushBackReader } from './push-back-reader.js';
import { readableCopy, restoreTags } from './unreadable-types.js';

/** Bytes at the very end of an Arrow file: footer length (int32) and the "ARROW1" magic. */
export const FILE_TRAILER_BYTES = 10;

/** The "ARROW1" magic that opens and closes an Arrow file. */
export const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];

/** Reads the footer length from the last `FILE_TRAILER_BYTES` of a file, or `null` when the magic is missing. */
export function footerLength(trailer: Uint8Array): number | null {
  if (trailer.byteLength < FILE_TRAILER_BYTES) return null;
  const at = trailer.byteLength - FILE_TRAILER_BYTES;
  if (!FILE_MAGIC.every((b, i) => trailer[at + 4 + i] === b)) return null;
  return new DataView(trailer.buffer, trailer.byteOffset + at, 4).getInt32(0, true);
}

/**
 * Re-encodes the schema held in a file's footer as a stream-format Schema message, with whether its
 * batches are big-endian (the re-encoded schema says little). Files written by apache-arrow JS carry
 * their schema only there, not before the first batch. `tail` is the footer followed by the trailer.
 */
export function schemaMessageFromFooter(tail: Uint8Array): { prefix: Uint8Array; bigEndian: boolean } {
  const length = footerLength(tail);
  if (length === null || length <= 0 || length + FILE_TRAILER_BYTES > tail.byteLength) {
    throw new Error('the file footer is missing or its length is inconsistent');
  }
  const start = tail.byteLength - FILE_TRAILER_BYTES - length;
  const bytes = tail.subarray(start, start + length);
  // apache-arrow trusts every length in the footer's schema: check them first.
  const fb = new FlatbufferView(bytes);
  const footerTable = fb.root();
  const schema = fb.field(footerTable, FooterSlot.schema);
  if (schema === null) throw new HeaderFault('the file footer has no schema');
  const versionField = fb.field(footerTable, FooterSlot.version);
  const version = versionField === null ? METADATA_V4 : Math.max(METADATA_V4, fb.i16(versionField));
  const { bigEndian } = checkSchema(fb, fb.indirect(schema), version);
  // apache-arrow decodes no RunEndEncoded or ListView: it reads a copy where they are structs, and
  // the message it writes gets their tags back (the schema rewrite then takes them out).
  const trees = readSchemaFields(fb, fb.indirect(schema));
  const footer = Footer.decode(readableCopy(bytes, trees));
  const metadata = encodeMessage(Message.from(footer.schema), version);
  restoreTags(metadata, readFieldTrees(new FlatbufferView(metadata)), trees);
  return { prefix: framedPrefix(metadata), bigEndian };
}

/**
 * Reads the schema of a file whose first message is not one, from its footer, as a framed Schema
 * message placed at `at` (where the schema message was expected). Needs `readTail`: without it (a
 * source that cannot be read from its end) the file is `INVALID_ARGUMENT` naming the source.
 */
export async function readFooterSchema(
  readTail: ReadTail | undefined,
  at: number,
  url: string,
  maxMetadataBytes: number,
): Promise<FramedMessage> {
  if (!readTail) {
    // Reading on to the footer would mean holding every batch until then: the load fails instead.
    throw new ArgumentError(
      `${url} is an Arrow file whose schema is only in its footer (as apache-arrow JS writes files), and ` +
        'this source cannot be read from its end (a stream, or a request other than GET): pass the file ' +
        'as a Blob, an ArrayBuffer or a URL, or send it in the IPC stream format',
      { url, option: 'source', byteOffset: at },
    );
  }
  const length = footerLength(await readTail(FILE_TRAILER_BYTES));
  if (length === null || length <= 0 || length > maxMetadataBytes) {
    throw new DecodeError('TRUNCATED', `${url} has no valid Arrow file footer (footer length ${length})`, {
      url,
    });
  }
  const tail = await readTail(length + FILE_TRAILER_BYTES);
  let schema: { prefix: Uint8Array; bigEndian: boolean };
  try {
    schema = schemaMessageFromFooter(tail);
  } catch (error) {
    throw corrupt(
      url,
      at,
      `the schema in the file footer cannot be read (${String((error as Error).message)})`,
    );
  }
  const { prefix, bigEndian } = schema;
  const header = readHeaderAt(prefix.subarray(8), at, url);
  if (header.layout) header.layout = { ...header.layout, bigEndian };
  return { prefix, body: new Uint8Array(0), header, byteOffset: at, bodyOffset: at, endOffset: at };
}

/**
 * Bytes accepted between a file's last message and its footer: zero padding and extra end-of-stream
 * markers (see `isEndPadding`), no more than a few of them.
 */
const MAX_FOOTER_PADDING = 64;

/**
 * Reads the rest of a file (its footer, after the last message, which ended at `messagesEnd`) and checks
 * that it closes with the "ARROW1" magic, and that its footer starts where the messages ended: bytes
 * between them would be messages that were not read (a marker or a bare length that did not parse).
 * A file cut anywhere in its footer fails here with `TRUNCATED`.
 */
export async function checkFileEnd(input: PushBackReader, url: string, messagesEnd: number): Promise<void> {
  // The footer is small (a schema and one block entry per batch): keep only its first and closing bytes.
  let tail = input.takePushedBack();
  let head: Uint8Array = tail.slice(0, MAX_FOOTER_PADDING);
  for (;;) {
    const next = await input.read(64 << 10);
    if (next.byteLength === 0) break;
    if (head.byteLength < MAX_FOOTER_PADDING) head = keepFirst(head, next, MAX_FOOTER_PADDING);
    tail = keepLast(tail, next, FILE_TRAILER_BYTES);
  }
  const end = input.position;
  const magicAt = tail.byteLength - FILE_MAGIC.length;
  if (magicAt < 4 || !FILE_MAGIC.every((b, i) => tail[magicAt + i] === b)) {
    throw new DecodeError(
      'TRUNCATED',
      `${url} ends at byte ${end} without the Arrow file footer (its closing "ARROW1" magic is missing)`,
      { url, byteOffset: end },
    );
  }
  const length = footerLength(tail.subarray(tail.byteLength - FILE_TRAILER_BYTES)) ?? 0;
  const footerStart = end - FILE_TRAILER_BYTES - length;
  const gap = footerStart - messagesEnd;
  if (length <= 0 || gap < 0 || gap > MAX_FOOTER_PADDING || !isEndPadding(head.subarray(0, gap))) {
    const what =
      length <= 0 || gap < 0
        ? `the footer length ${length} (before the closing magic) does not fit after the messages, which end here`
        : `the messages end here, but the footer starts at byte ${footerStart} (by its length, ${length}): ` +
          `the ${gap} bytes between do not parse as an Arrow message`;
    throw corrupt(url, messagesEnd, what);
  }
}

/**
 * Whether the bytes between the messages and the footer are only zero padding and end-of-stream
 * markers: some writers (flechette, for one) close the stream inside a file twice.
 */
function isEndPadding(gap: Uint8Array): boolean {
  let at = 0;
  while (at < gap.byteLength) {
    if (gap[at] === 0) at += 1;
    else if (isEndOfStreamMarker(gap, at)) at += END_OF_STREAM_MARKER.byteLength;
    else return false;
  }
  return true;
}

/** The first `keep` bytes of `head` followed by `next`. */
function keepFirst(head: Uint8Array, next: Uint8Array, keep: number): Uint8Array {
  const out = new Uint8Array(Math.min(keep, head.byteLength + next.byteLength));
  out.set(head);
  out.set(next.subarray(0, out.byteLength - head.byteLength), head.byteLength);
  return out;
}
