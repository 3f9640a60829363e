import { DecodeError, formatBytes, LimitError } from '../errors.js';
import type { BytePool } from '../source/byte-pool.js';
import { messageSlab } from '../source/byte-slab.js';
import type { ReadTail } from '../source/byte-source.js';
import { holdShared, passShared, pinShared } from '../source/shared-chunks.js';
import { BodyFault, checkCompressedBody } from './compression/compressed-body.js';
import { bodyToLittleEndian, checkByteOrder } from './endianness.js';
import { bodyCorrupt, corrupt, readHeaderAt, truncated, tryReadHeaderAt } from './faults.js';
import { checkFileEnd, readFooterSchema } from './footer.js';
import { type Framing, type MessageStart, readMessageStart } from './message-start.js';
import { type MessageHeaderInfo, MessageKind } from './metadata/message.js';
import type { SchemaLayout } from './metadata/schema.js';
import { PushBackReader } from './push-back-reader.js';
import { batchLayout, batchShapeFault } from './shape-check.js';
import { type IpcFormat, PREAMBLE_BYTES, sniffFormat } from './sniff.js';

/** One IPC message, re-encoded as the stream format expects it. */
export interface FramedMessage {
  /** Continuation marker, metadata length and metadata flatbuffer (also for legacy-framed sources). */
  prefix: Uint8Array;
  body: Uint8Array;
  header: MessageHeaderInfo;
  /** Offset of the message in the source bytes. */
  byteOffset: number;
  /** Offset of its body in the source bytes (a legacy prefix is 4 bytes shorter than `prefix`'s). */
  bodyOffset: number;
  /** Offset just past the message in the source bytes (a decompressed body may be longer than it was). */
  endOffset: number;
  /** The body was joined into a buffer of the framer's `pool`: release it there once the batch is done. */
  pooled?: boolean;
  /**
   * The body is a view of a read worker's chunk held for it (`holdShared`): end the hold with
   * `releaseShared(body)` once the batch is done (its chunk then goes back to the read worker).
   */
  held?: boolean;
  /**
   * The body was skipped, not read (`body` is empty): whoever decodes the batch reads its
   * `header.bodyLength` bytes at `bodyOffset` from the source itself.
   */
  deferred?: boolean;
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

/** What a framed message's metadata came to: its bytes and what they say, or `null` for no message. */
type ReadMetadata = { metadata: Uint8Array; header: MessageHeaderInfo } | null;

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
  /**
   * Called with each message's header as soon as it is read, before its body: a consumer can make
   * room for a batch (its rows are in the header) while the body is still arriving.
   */
  onHeader: ((header: MessageHeaderInfo) => void) | null = null;
  /**
   * Awaited after `onHeader`, before the body is read (not before one skipped): a consumer holding enough bytes of earlier
   * batches makes the framer wait, so that the bytes in flight stay bounded whatever the batch size.
   */
  beforeBody: ((header: MessageHeaderInfo) => Promise<void>) | null = null;
  /**
   * Asked for each record batch whose body could be skipped (uncompressed, little-endian): `true`
   * skips it, when the source can, and yields the message `deferred`. `bodyOffset` is where it starts.
   */
  deferBody: ((header: MessageHeaderInfo, bodyOffset: number) => boolean) | null = null;
  /** Bytes of the bodies skipped so far (`deferred` messages). */
  deferredBytes = 0;
  /** Record batches framed so far: the index of the next one. */
  #recordBatches = 0;
  /** How the source frames its messages, known once the first one is read. */
  #framing: Framing | null = null;

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
      const message = await this.#readMessage(layout);
      if (first && this.format === 'file' && message?.header.kind !== MessageKind.Schema) {
        const schema = await this.#schemaFromFooter();
        layout = schema.header.layout;
        yield schema;
      }
      if (message === null) break;
      if (message.header.kind === MessageKind.Schema) {
        layout = message.header.layout;
        if (layout) checkByteOrder(layout, this.#url, message.byteOffset);
      }
      this.#checkShape(message, layout);
      this.#checkBody(message, layout);
      const little = bodyToLittleEndian(message, layout, this.#url);
      // A decompressed big-endian body is a new buffer: the pooled one it came from is free again.
      if (message.pooled && little.body !== message.body) this.pool?.release(message.body);
      if (message.header.kind === MessageKind.RecordBatch) this.#recordBatches++;
      yield this.#keepBody(little);
    }
    if (this.format === 'file') await checkFileEnd(this.#input, this.#url, this.#input.offset);
  }

  /**
   * Holds the chunk a record batch's body lies in (read as a view of it), pins that of any other
   * message's (a dictionary's is kept for the whole load), then lets the chunks the reader has moved
   * past go back to the read worker once nothing holds them.
   */
  #keepBody(message: FramedMessage): FramedMessage {
    let kept = message;
    if (message.header.kind !== MessageKind.RecordBatch) {
      if (message.body.byteLength > 0) pinShared(message.body);
    } else if (!message.pooled && !message.deferred && holdShared(message.body))
      kept = { ...message, held: true };
    for (const buffer of this.#input.takePassed()) passShared(buffer);
    return kept;
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
      const { body } = await this.#readBody(head.header, head.byteOffset);
      yield { ...head, body, endOffset: head.bodyOffset + body.byteLength };
    } else if (this.format === 'file') {
      yield await this.#schemaFromFooter();
    } else if (head !== null) {
      // A batch before the schema fails as it does in a load; other messages, the decoder refuses.
      const message = { ...head, body: new Uint8Array(0), endOffset: head.bodyOffset };
      this.#checkShape(message, null);
      yield message;
    }
  }

  /** Reads the file magic, or hands a stream's first bytes (its first message) back to be read again. */
  async #readPreamble(): Promise<IpcFormat> {
    const head = await this.#input.read(PREAMBLE_BYTES);
    const format = sniffFormat(head, this.#url, this.#limits.maxMetadataBytes);
    if (format === 'stream') this.#input.pushBack(head);
    return format;
  }

  /** The next message, or `null` at the end of the messages (end-of-stream marker, footer or end of bytes). */
  async #readMessage(layout: SchemaLayout | null): Promise<FramedMessage | null> {
    const head = await this.#readHead();
    if (head === null) return null;
    this.onHeader?.(head.header);
    // A skipped body holds no bytes here: whoever reads it bounds how many are out.
    if (this.#mayDefer(head.header, head.bodyOffset, layout)) {
      const skipped = await this.#input.trySkip(head.header.bodyLength);
      if (skipped !== false) return this.#deferred(head, skipped);
    }
    await this.beforeBody?.(head.header);
    const { body, pooled } = await this.#readBody(head.header, head.byteOffset);
    const endOffset = head.bodyOffset + body.byteLength;
    return { ...head, body, endOffset, ...(pooled ? { pooled } : {}) };
  }

  /** Whether a record batch's body may be skipped: as is on the wire (no codec, no byte swap), and wanted so. */
  #mayDefer(header: MessageHeaderInfo, bodyOffset: number, layout: SchemaLayout | null): boolean {
    if (header.kind !== MessageKind.RecordBatch || header.batch?.compression !== null) return false;
    if (layout === null || layout.bigEndian || header.bodyLength > this.#limits.maxBodyBytes) return false;
    return this.deferBody?.(header, bodyOffset) === true;
  }

  /** A message whose body was skipped: its end is where the body would end, if the source holds it all. */
  #deferred(head: Omit<FramedMessage, 'body' | 'endOffset'>, skipped: number): FramedMessage {
    const { bodyLength } = head.header;
    if (skipped < bodyLength) throw truncated(this.#url, this.#input.offset, bodyLength - skipped);
    this.deferredBytes += bodyLength;
    return { ...head, body: new Uint8Array(0), endOffset: head.bodyOffset + bodyLength, deferred: true };
  }

  /** The next message's prefix and header, its body not read yet; `null` at the end of the messages. */
  async #readHead(): Promise<Omit<FramedMessage, 'body' | 'endOffset'> | null> {
    const byteOffset = this.#input.offset;
    const start = await readMessageStart(
      this.#input,
      byteOffset,
      this.format as IpcFormat,
      this.#framing,
      this.#url,
    );
    if (start === null || start.metadataLength === 0) return null; // 0: the end-of-stream marker
    const read = await this.#readMetadataOf(start, byteOffset);
    if (read === null) return null;
    this.#framing ??= start.prefixBytes < MESSAGE_PREFIX_BYTES ? 'legacy' : 'marker';
    const { metadata, header } = read;
    const bodyOffset = byteOffset + start.prefixBytes + start.metadataLength;
    // apache-arrow is always fed the marker: legacy messages get it here.
    const prefix = messageSlab.take(MESSAGE_PREFIX_BYTES + metadata.byteLength);
    const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    view.setUint32(0, 0xffffffff, true);
    view.setInt32(4, metadata.byteLength, true);
    prefix.set(metadata, MESSAGE_PREFIX_BYTES);
    return { prefix, header, byteOffset, bodyOffset };
  }

  /**
   * The metadata after `start` and its header. Behind a bare length (no marker) it may be no message:
   * in a file, the footer (pushed back: `null`); as a stream's first message, bytes that only looked
   * like Arrow (`NOT_ARROW`).
   */
  async #readMetadataOf(start: MessageStart, byteOffset: number): Promise<ReadMetadata> {
    const metadataOffset = byteOffset + start.prefixBytes;
    const bare = start.prefixBytes < MESSAGE_PREFIX_BYTES;
    if (bare && this.format === 'file') return this.#tryLegacyInFile(start, metadataOffset);
    const metadata = await this.#readMetadata(start.metadataLength, metadataOffset - 4);
    if (!bare || this.#framing !== null)
      return { metadata, header: readHeaderAt(metadata, metadataOffset, this.#url) };
    const header = tryReadHeaderAt(metadata, metadataOffset, this.#url);
    if (header === null) {
      throw new DecodeError(
        'NOT_ARROW',
        `${this.#url} is not Arrow IPC: it starts like a stream written before Arrow 0.15 (a metadata length ` +
          `of ${start.metadataLength}), but what follows does not parse as a message`,
        { url: this.#url, byteOffset },
      );
    }
    return { metadata, header };
  }

  /**
   * A legacy message in a file, or `null` (the bytes pushed back) when the bytes after the bare length
   * are none: that is where the footer starts, which `checkFileEnd` then checks.
   */
  async #tryLegacyInFile(start: MessageStart, metadataOffset: number): Promise<ReadMetadata> {
    const { metadataLength, bytes } = start;
    if (metadataLength < 0 || metadataLength > this.#limits.maxMetadataBytes) {
      this.#input.pushBack(bytes);
      return null;
    }
    const metadata = await this.#input.read(metadataLength);
    const header =
      metadata.byteLength < metadataLength ? null : tryReadHeaderAt(metadata, metadataOffset, this.#url);
    if (header !== null) return { metadata, header };
    this.#input.pushBack(metadata);
    this.#input.pushBack(bytes);
    return null;
  }

  /** A message's metadata flatbuffer, its length (read at `lengthOffset`) checked against the cap first. */
  async #readMetadata(metadataLength: number, lengthOffset: number): Promise<Uint8Array> {
    if (metadataLength < 0 || metadataLength > this.#limits.maxMetadataBytes) {
      throw corrupt(
        this.#url,
        lengthOffset,
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
  #checkBody({ header, body, bodyOffset }: FramedMessage, layout: SchemaLayout | null): void {
    if (header.batch === null) return;
    const needs = batchLayout(header.batch, layout);
    if (needs === undefined) return;
    try {
      checkCompressedBody(body, header.batch, needs.layout, header.rows, layout?.bigEndian);
    } catch (error) {
      if (!(error instanceof BodyFault)) throw error;
      throw bodyCorrupt(this.#url, error, bodyOffset, header.batch.dictionaryId, this.#recordBatches);
    }
  }
}
