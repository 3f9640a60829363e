import { DecodeError, formatBytes, LimitError } from '../errors.js';
import type { BytePool } from '../source/byte-pool.js';
import { ByteReader } from '../source/byte-reader.js';
import type { ReadTail } from '../source/byte-source.js';
import { keepLast } from '../source/tail-bytes.js';
import { FlatbufferBoundsError } from './flatbuffer-view.js';
import { FILE_MAGIC, FILE_TRAILER_BYTES, footerLength, schemaMessageFromFooter } from './footer.js';
import {
  type BatchShape,
  HeaderFault,
  type MessageHeaderInfo,
  MessageKind,
  readMessageHeader,
  type SchemaLayout,
} from './metadata/message.js';

/** Which IPC container the bytes use. */
export type IpcFormat = 'stream' | 'file';

/** One IPC message, re-encoded as the stream format expects it. */
export interface FramedMessage {
  /** Continuation marker, metadata length and metadata flatbuffer. */
  prefix: Uint8Array;
  body: Uint8Array;
  header: MessageHeaderInfo;
  /** Offset of the message in the source bytes. */
  byteOffset: number;
  /** The body was joined into a buffer of the framer's `pool`: release it there once the batch is done. */
  pooled?: boolean;
}

/** Caps that keep a lying length from turning into a huge allocation. */
export interface FramerLimits {
  maxMetadataBytes: number;
  maxBodyBytes: number;
}

/** Default caps: 16 MiB of metadata and 2 GiB of body per message. */
export const DEFAULT_FRAMER_LIMITS: FramerLimits = {
  maxMetadataBytes: 16 << 20,
  maxBodyBytes: 2 ** 31,
};

const CONTINUATION = 0xffffffff;
const FILE_PREAMBLE_BYTES = 8; // magic padded to 8

/**
 * Splits Arrow IPC bytes (stream or file format) into messages as they arrive, checking every length
 * against the bytes and the caps before anything is allocated. The file format is read front to back as
 * the stream it contains, so it never needs the whole file: its footer is only checked for its magic.
 */
export class IpcFramer implements AsyncIterable<FramedMessage> {
  readonly #reader: ByteReader;
  readonly #url: string;
  readonly #limits: FramerLimits;
  readonly #readTail: ReadTail | undefined;
  /** Container format, known after the first message has been read. */
  format: IpcFormat | null = null;
  /** Where record batch bodies that straddle chunks are joined; `null`: fresh allocations. */
  pool: BytePool | null = null;

  /** `readTail` is needed only for files whose schema is in the footer alone (as apache-arrow JS writes them). */
  constructor(
    source: AsyncIterable<Uint8Array>,
    url: string,
    limits: FramerLimits = DEFAULT_FRAMER_LIMITS,
    readTail?: ReadTail,
  ) {
    this.#reader = new ByteReader(source);
    this.#url = url;
    this.#limits = limits;
    this.#readTail = readTail;
  }

  /** Stops reading the source. */
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<FramedMessage> {
    this.format = await this.#readPreamble();
    let layout: SchemaLayout | null = null;
    for (let first = true; ; first = false) {
      const message = await this.#readMessage();
      if (first && this.format === 'file' && message?.header.kind !== MessageKind.Schema) {
        const schema = await this.#schemaFromFooter();
        layout = schema.header.layout;
        yield schema;
      }
      if (message === null) break;
      if (message.header.kind === MessageKind.Schema) layout = message.header.layout;
      if (message.header.batch !== null) this.#checkShape(message, layout);
      yield message;
    }
    if (this.format === 'file') await this.#checkFooter();
  }

  /**
   * A batch must list the field nodes and buffers its schema (or dictionary) needs, and each top-level
   * field of a record batch must have the batch's rows: apache-arrow would read past the lists, or pad.
   */
  #checkShape({ header, byteOffset }: FramedMessage, layout: SchemaLayout | null): void {
    const batch = header.batch as BatchShape;
    const what = batch.dictionaryId === null ? 'record batch' : `dictionary batch (id ${batch.dictionaryId})`;
    if (layout === null) throw this.#corrupt(byteOffset, `a ${what} comes before the schema`);
    const needs = batch.dictionaryId === null ? layout : layout.dictionaries.get(batch.dictionaryId);
    if (needs === undefined) throw this.#corrupt(byteOffset, `the schema has no dictionary for this ${what}`);
    if (batch.nodes < needs.nodes || batch.buffers < needs.buffers) {
      throw this.#corrupt(
        byteOffset,
        `the ${what} lists ${batch.nodes} field nodes and ${batch.buffers} buffers, its schema needs ` +
          `${needs.nodes} and ${needs.buffers}`,
      );
    }
    if (batch.dictionaryId !== null) return;
    layout.topLevelNodes.forEach((node, field) => {
      const length = batch.nodeLengths[node];
      if (length !== header.rows) {
        throw this.#corrupt(
          byteOffset,
          `field ${field} of the record batch has ${length} rows, the batch declares ${header.rows}`,
        );
      }
    });
  }

  async #readPreamble(): Promise<IpcFormat> {
    const head = await this.#reader.read(FILE_PREAMBLE_BYTES);
    if (head.byteLength === 0) {
      throw new DecodeError('NOT_ARROW', `${this.#url} is empty: expected Arrow IPC bytes`, {
        url: this.#url,
        byteOffset: 0,
        actual: 0,
      });
    }
    if (head.byteLength < FILE_PREAMBLE_BYTES && isPrefixOfPreamble(head)) {
      this.#truncated(head.byteLength, FILE_PREAMBLE_BYTES - head.byteLength);
    }
    if (FILE_MAGIC.every((b, i) => head[i] === b)) return 'file';
    if (head.byteLength >= 4 && readU32(head, 0) === CONTINUATION) {
      this.#pushBack = head;
      return 'stream';
    }
    const shown = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DecodeError(
      'NOT_ARROW',
      `${this.#url} is not Arrow IPC: expected a stream (starts ff ff ff ff) or a file (starts "ARROW1"), ` +
        `got bytes ${shown}${looksLikeText(head) ? ` ("${asText(head)}…")` : ''}`,
      { url: this.#url, byteOffset: 0 },
    );
  }

  #pushBack: Uint8Array | null = null;

  async #read(length: number): Promise<Uint8Array> {
    const pending = this.#pushBack;
    if (pending === null) return this.#reader.read(length);
    this.#pushBack = null;
    if (pending.byteLength >= length) {
      if (pending.byteLength > length) this.#pushBack = pending.subarray(length);
      return pending.subarray(0, length);
    }
    const rest = await this.#reader.read(length - pending.byteLength);
    const out = new Uint8Array(pending.byteLength + rest.byteLength);
    out.set(pending);
    out.set(rest, pending.byteLength);
    return out;
  }

  get #offset(): number {
    return this.#reader.position - (this.#pushBack?.byteLength ?? 0);
  }

  async #readMessage(): Promise<FramedMessage | null> {
    const byteOffset = this.#offset;
    const marker = await this.#read(8);
    if (marker.byteLength === 0) {
      if (this.format === 'file') this.#truncated(byteOffset, 8);
      return null; // a stream may end without its end-of-stream marker
    }
    if (marker.byteLength < 8) this.#truncated(byteOffset + marker.byteLength, 8 - marker.byteLength);
    if (readU32(marker, 0) !== CONTINUATION) {
      if (this.format === 'file') {
        // Writers that omit the end-of-stream marker go straight on to the footer.
        this.#pushBack = marker;
        return null;
      }
      throw this.#corrupt(byteOffset, `expected the message continuation marker ff ff ff ff`);
    }
    const metadataLength = readI32(marker, 4);
    if (metadataLength === 0) return null; // end-of-stream marker
    if (metadataLength < 0 || metadataLength > this.#limits.maxMetadataBytes) {
      throw this.#corrupt(
        byteOffset + 4,
        `message metadata length ${metadataLength} is outside [1, ${this.#limits.maxMetadataBytes}]`,
      );
    }
    const metadata = await this.#read(metadataLength);
    if (metadata.byteLength < metadataLength)
      this.#truncated(this.#offset, metadataLength - metadata.byteLength);
    const header = this.#parseHeader(metadata, byteOffset + 8);
    if (header.bodyLength > this.#limits.maxBodyBytes) {
      throw new LimitError(
        `${this.#url}: message at byte ${byteOffset} declares a body of ${formatBytes(header.bodyLength)}, ` +
          `over the cap of ${formatBytes(this.#limits.maxBodyBytes)}`,
        { url: this.#url, byteOffset, expected: this.#limits.maxBodyBytes, actual: header.bodyLength },
      );
    }
    const pool = header.kind === MessageKind.RecordBatch && this.#pushBack === null ? this.pool : null;
    const before = this.#reader.joins;
    const body = pool
      ? await this.#reader.read(header.bodyLength, pool)
      : await this.#read(header.bodyLength);
    const pooled = pool !== null && this.#reader.joins > before;
    if (body.byteLength < header.bodyLength) {
      this.#truncated(this.#offset, header.bodyLength - body.byteLength);
    }
    const prefix = new Uint8Array(8 + metadataLength);
    prefix.set(marker);
    prefix.set(metadata, 8);
    return { prefix, body, header, byteOffset, ...(pooled ? { pooled } : {}) };
  }

  #parseHeader(metadata: Uint8Array, metadataOffset: number): MessageHeaderInfo {
    try {
      return readMessageHeader(metadata);
    } catch (error) {
      if (error instanceof FlatbufferBoundsError) {
        // An offset may point outside the metadata: the fault is then reported at its start.
        const inside = error.position >= 0 && error.position < metadata.byteLength;
        throw this.#corrupt(
          metadataOffset + (inside ? error.position : 0),
          `invalid message metadata flatbuffer (${error.message})`,
        );
      }
      if (error instanceof HeaderFault) throw this.#corrupt(metadataOffset, error.message);
      throw error;
    }
  }

  async #schemaFromFooter(): Promise<FramedMessage> {
    const at = this.#offset;
    if (!this.#readTail) {
      throw this.#corrupt(
        at,
        'the file has no schema message before its first batch, and its footer cannot be read',
      );
    }
    const length = footerLength(await this.#readTail(FILE_TRAILER_BYTES));
    if (length === null || length <= 0 || length > this.#limits.maxMetadataBytes) {
      throw new DecodeError(
        'TRUNCATED',
        `${this.#url} has no valid Arrow file footer (footer length ${length})`,
        {
          url: this.#url,
        },
      );
    }
    const tail = await this.#readTail(length + FILE_TRAILER_BYTES);
    let prefix: Uint8Array;
    try {
      prefix = schemaMessageFromFooter(tail);
    } catch (error) {
      throw this.#corrupt(
        at,
        `the schema in the file footer cannot be read (${String((error as Error).message)})`,
      );
    }
    const header = this.#parseHeader(prefix.subarray(8), at);
    return { prefix, body: new Uint8Array(0), header, byteOffset: at };
  }

  async #checkFooter(): Promise<void> {
    // The footer is small (a schema and one block entry per batch): keep only its closing bytes.
    let tail = this.#pushBack ?? new Uint8Array(0);
    this.#pushBack = null;
    for (;;) {
      const next = await this.#reader.read(64 << 10);
      if (next.byteLength === 0) break;
      tail = keepLast(tail, next, FILE_MAGIC.length + 4);
    }
    const end = this.#reader.position;
    const magicAt = tail.byteLength - FILE_MAGIC.length;
    if (magicAt < 4 || !FILE_MAGIC.every((b, i) => tail[magicAt + i] === b)) {
      throw new DecodeError(
        'TRUNCATED',
        `${this.#url} ends at byte ${end} without the Arrow file footer (its closing "ARROW1" magic is missing)`,
        { url: this.#url, byteOffset: end },
      );
    }
  }

  #truncated(byteOffset: number, missing: number): never {
    throw new DecodeError(
      'TRUNCATED',
      `${this.#url} ends early: ${formatBytes(missing)} more expected at byte offset ${byteOffset}`,
      { url: this.#url, byteOffset, expected: missing, actual: 0 },
    );
  }

  #corrupt(byteOffset: number, what: string): DecodeError {
    return new DecodeError('CORRUPT', `${this.#url} is corrupt at byte offset ${byteOffset}: ${what}`, {
      url: this.#url,
      byteOffset,
    });
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
}

function readI32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getInt32(0, true);
}

/** True when `head` (shorter than 8 bytes) could be the start of a file magic or a stream's first message. */
function isPrefixOfPreamble(head: Uint8Array): boolean {
  const magic = head.every((b, i) => i >= FILE_MAGIC.length || b === FILE_MAGIC[i]);
  const continuation = head.every((b, i) => i >= 4 || b === 0xff);
  return magic || continuation;
}

function looksLikeText(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
}

function asText(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes).replace(/\s+/g, ' ');
}
