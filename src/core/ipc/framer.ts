import { formatBytes, LimitError } from '../errors.js';
import type { BytePool } from '../source/byte-pool.js';
import type { ReadTail } from '../source/byte-source.js';
import { BodyFault, checkCompressedBody } from './compression/compressed-body.js';
import { bodyCorrupt, corrupt, readHeaderAt, truncated } from './faults.js';
import { checkFileEnd, readFooterSchema } from './footer.js';
import { type MessageHeaderInfo, MessageKind } from './metadata/message.js';
import type { SchemaLayout } from './metadata/schema.js';
import { PushBackReader } from './push-back-reader.js';
import { batchLayout, batchShapeFault } from './shape-check.js';
import { type IpcFormat, PREAMBLE_BYTES, sniffFormat, startsWithContinuation } from './sniff.js';

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

/** Continuation marker and metadata length, before each message's metadata. */
const MESSAGE_PREFIX_BYTES = 8;

/**
 * Splits Arrow IPC bytes (stream or file format) into messages as they arrive, checking every length
 * against the bytes and the caps before anything is allocated. The file format is read front to back as
 * the stream it contains, so it never needs the whole file: its footer is only checked for its magic.
 */
export class IpcFramer implements AsyncIterable<FramedMessage> {
  readonly #input: PushBackReader;
  readonly #url: string;
  readonly #limits: FramerLimits;
  readonly #readTail: ReadTail | undefined;
  /** Container format, known after the first message has been read. */
  format: IpcFormat | null = null;
  /** Where record batch bodies that straddle chunks are joined; `null`: fresh allocations. */
  pool: BytePool | null = null;
  /** Record batches framed so far: the index of the next one. */
  #recordBatches = 0;

  /** `readTail` is needed only for files whose schema is in the footer alone (as apache-arrow JS writes them). */
  constructor(
    source: AsyncIterable<Uint8Array>,
    url: string,
    limits: FramerLimits = DEFAULT_FRAMER_LIMITS,
    readTail?: ReadTail,
  ) {
    this.#input = new PushBackReader(source);
    this.#url = url;
    this.#limits = limits;
    this.#readTail = readTail;
  }

  /** Stops reading the source. */
  cancel(): Promise<void> {
    return this.#input.cancel();
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
      this.#checkShape(message, layout);
      this.#checkBody(message, layout);
      if (message.header.kind === MessageKind.RecordBatch) this.#recordBatches++;
      yield message;
    }
    if (this.format === 'file') await checkFileEnd(this.#input, this.#url);
  }

  /**
   * The schema message alone, for a decoder that needs nothing more: the first message when it is the
   * schema, else a file's footer schema (through `readTail`). No record batch body is read, and nothing
   * is pulled from the source past the first message's metadata (and a schema message's own body).
   */
  async *schemaOnly(): AsyncGenerator<FramedMessage> {
    this.format = await this.#readPreamble();
    const head = await this.#readHead();
    if (head?.header.kind === MessageKind.Schema) {
      yield { ...head, body: (await this.#readBody(head.header, head.byteOffset)).body };
    } else if (this.format === 'file') {
      yield await this.#schemaFromFooter();
    } else if (head !== null) {
      // A batch before the schema fails as it does in a load; other messages, the decoder refuses.
      const message = { ...head, body: new Uint8Array(0) };
      this.#checkShape(message, null);
      yield message;
    }
  }

  /** Reads the file magic, or hands a stream's first bytes (its first message) back to be read again. */
  async #readPreamble(): Promise<IpcFormat> {
    const head = await this.#input.read(PREAMBLE_BYTES);
    const format = sniffFormat(head, this.#url);
    if (format === 'stream') this.#input.pushBack(head);
    return format;
  }

  /** The next message, or `null` at the end of the messages (end-of-stream marker, footer or end of bytes). */
  async #readMessage(): Promise<FramedMessage | null> {
    const head = await this.#readHead();
    if (head === null) return null;
    const { body, pooled } = await this.#readBody(head.header, head.byteOffset);
    return { ...head, body, ...(pooled ? { pooled } : {}) };
  }

  /** The next message's prefix and header, its body not read yet; `null` at the end of the messages. */
  async #readHead(): Promise<Omit<FramedMessage, 'body'> | null> {
    const byteOffset = this.#input.offset;
    const marker = await this.#readMarker(byteOffset);
    if (marker === null) return null;
    const metadataLength = readI32(marker, 4);
    if (metadataLength === 0) return null; // end-of-stream marker
    const metadata = await this.#readMetadata(metadataLength, byteOffset);
    const header = readHeaderAt(metadata, byteOffset + MESSAGE_PREFIX_BYTES, this.#url);
    const prefix = new Uint8Array(MESSAGE_PREFIX_BYTES + metadataLength);
    prefix.set(marker);
    prefix.set(metadata, MESSAGE_PREFIX_BYTES);
    return { prefix, header, byteOffset };
  }

  /** The continuation marker and metadata length of the message at `byteOffset`, or `null` past the last. */
  async #readMarker(byteOffset: number): Promise<Uint8Array | null> {
    const marker = await this.#input.read(MESSAGE_PREFIX_BYTES);
    if (marker.byteLength === 0) {
      if (this.format === 'file') throw truncated(this.#url, byteOffset, MESSAGE_PREFIX_BYTES);
      return null; // a stream may end without its end-of-stream marker
    }
    if (marker.byteLength < MESSAGE_PREFIX_BYTES) {
      throw truncated(this.#url, byteOffset + marker.byteLength, MESSAGE_PREFIX_BYTES - marker.byteLength);
    }
    if (startsWithContinuation(marker)) return marker;
    if (this.format === 'file') {
      // Writers that omit the end-of-stream marker go straight on to the footer.
      this.#input.pushBack(marker);
      return null;
    }
    throw corrupt(this.#url, byteOffset, `expected the message continuation marker ff ff ff ff`);
  }

  /** The metadata flatbuffer of the message at `byteOffset`, its length checked against the cap first. */
  async #readMetadata(metadataLength: number, byteOffset: number): Promise<Uint8Array> {
    if (metadataLength < 0 || metadataLength > this.#limits.maxMetadataBytes) {
      throw corrupt(
        this.#url,
        byteOffset + 4,
        `message metadata length ${metadataLength} is outside [1, ${this.#limits.maxMetadataBytes}]`,
      );
    }
    const metadata = await this.#input.read(metadataLength);
    if (metadata.byteLength < metadataLength) {
      throw truncated(this.#url, this.#input.offset, metadataLength - metadata.byteLength);
    }
    return metadata;
  }

  /** The body of the message at `byteOffset`; a record batch's may be joined in `pool`. */
  async #readBody(
    header: MessageHeaderInfo,
    byteOffset: number,
  ): Promise<{ body: Uint8Array; pooled: boolean }> {
    if (header.bodyLength > this.#limits.maxBodyBytes) {
      throw new LimitError(
        `${this.#url}: message at byte ${byteOffset} declares a body of ${formatBytes(header.bodyLength)}, ` +
          `over the cap of ${formatBytes(this.#limits.maxBodyBytes)}`,
        { url: this.#url, byteOffset, expected: this.#limits.maxBodyBytes, actual: header.bodyLength },
      );
    }
    // Only record batch bodies go to the pool: the decoder releases them once the batch is uploaded.
    const pool = header.kind === MessageKind.RecordBatch ? this.pool : null;
    const { bytes: body, pooled } = await this.#input.readPooled(header.bodyLength, pool);
    if (body.byteLength < header.bodyLength) {
      throw truncated(this.#url, this.#input.offset, header.bodyLength - body.byteLength);
    }
    return { body, pooled };
  }

  /** The schema of a file that has none before its first batch, from its footer. */
  #schemaFromFooter(): Promise<FramedMessage> {
    return readFooterSchema(this.#readTail, this.#input.offset, this.#url, this.#limits.maxMetadataBytes);
  }

  /** Fails a batch that does not fit its schema (or dictionary); other messages pass. */
  #checkShape({ header, byteOffset }: FramedMessage, layout: SchemaLayout | null): void {
    if (header.batch === null) return;
    const fault = batchShapeFault(header.batch, header.rows, layout);
    if (fault !== null) throw corrupt(this.#url, byteOffset, fault);
  }

  /**
   * Fails a compressed batch (one that fits its schema) whose buffers declare more bytes than the batch
   * can hold, before anything is decompressed; other messages pass.
   */
  #checkBody({ header, body, byteOffset, prefix }: FramedMessage, layout: SchemaLayout | null): void {
    if (header.batch === null) return;
    const needs = batchLayout(header.batch, layout);
    if (needs === undefined) return;
    try {
      checkCompressedBody(body, header.batch, needs.layout, header.rows);
    } catch (error) {
      if (!(error instanceof BodyFault)) throw error;
      const bodyStart = byteOffset + prefix.byteLength;
      throw bodyCorrupt(this.#url, error, bodyStart, header.batch.dictionaryId, this.#recordBatches);
    }
  }
}

function readI32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getInt32(0, true);
}
