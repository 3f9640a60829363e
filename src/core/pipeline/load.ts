import type { LoadProgress, LoadStats, UploadStrategy } from '../../types.js';
import { checkBatch } from '../columns/check-batch.js';
import type { PreparedBatch } from '../columns/column-data.js';
import type { EncodingRequest } from '../columns/encoding.js';
import { type ColumnPlan, planColumns, type SkippedColumn } from '../columns/type-plan.js';
import { type ArrowGpuError, asArrowGpuError, GpuError, loadAborted } from '../errors.js';
import type { BufferTracker } from '../gpu/buffer-tracker.js';
import { GpuErrorWatch } from '../gpu/error-scope.js';
import { LoneBatchTransport } from '../gpu/upload/lone-batch-transport.js';
import type { StagingRing } from '../gpu/upload/staging-ring.js';
import { StagingTransport } from '../gpu/upload/staging-transport.js';
import { TableUploader, type UploadedColumn } from '../gpu/upload/table-uploader.js';
import type { ReadSource, UploadTransport } from '../gpu/upload/transport.js';
import { WriteBufferTransport } from '../gpu/upload/write-buffer-transport.js';
import { type BatchStream, openBatchStream } from '../ipc/decode.js';
import { truncated, unreadable } from '../ipc/faults.js';
import { DEFAULT_FRAMER_LIMITS, type FramedMessage, type FramerLimits, IpcFramer } from '../ipc/framer.js';
import { type MessageHeaderInfo, MessageKind } from '../ipc/metadata/message.js';
import { nextTask } from '../next-task.js';
import { BytePool } from '../source/byte-pool.js';
import type { BodyFileSpec, ReadTail } from '../source/byte-source.js';
import { END_OF_STREAM_MARKER } from '../source/end-of-stream-marker.js';
import { ReadAhead } from '../source/read-ahead.js';
import { READ_CHUNK_BYTES } from '../source/read-worker/hosted-read.js';
import { releaseShared } from '../source/shared-chunks.js';
import { abortable } from './async-utils.js';
import { BoundedQueue } from './bounded-queue.js';
import { directReader } from './direct-batch.js';
import { FlushPolicy } from './flush-policy.js';
import type { DecodePool } from './pool/decode-pool.js';
import { readToFirstBatch } from './pool/first-batch.js';
import { openPooledStream, type PooledStream, type QueuedBatch } from './pool/pooled-decode.js';
import { ProgressThrottle } from './progress-throttle.js';
import { type LiveLoad, TablePublisher, type TableUpdate } from './table-publisher.js';

/** The GPU side a load writes into: one device, its buffer tracker and its shared staging ring. */
export interface GpuTarget {
  device: GPUDevice;
  tracker: BufferTracker;
  ring: StagingRing;
  /** Errors the device raised outside any error scope so far (its `uncapturederror` events). */
  readonly uncapturedErrors: number;
  /** The message of the last of those. */
  readonly lastUncapturedError: string | null;
  /** Uploads through this instead of `upload`'s strategy (a device on another thread). */
  readonly transport?: (() => UploadTransport) | undefined;
}

/** Everything one load needs; nothing here depends on the DOM or a worker scope. */
export interface PipelineInput {
  gpu: GpuTarget;
  /** The IPC bytes as they arrive. */
  source: AsyncIterable<Uint8Array>;
  /** Reads the source's last bytes; needed for files whose schema is only in the footer. */
  readTail?: ReadTail;
  /** Where decode workers can read record batch bodies themselves (see `ByteSource.bodyFile`). */
  bodyFile?: BodyFileSpec;
  /** Smallest record batch body that decode workers read themselves (default 1 MiB). */
  minDeferredBodyBytes?: number;
  /**
   * Reads the source at a position into a given buffer, off this thread (a file in Node; see
   * `ByteSource.readAt`). With decode workers that read the bodies and a staging upload, the words of
   * columns already in GPU form are read through it straight into staging memory.
   */
  readAt?: (target: Uint8Array, position: number) => Promise<number>;
  /** Smallest words of one column in one batch that are read straight into staging (default 256 KiB). */
  minSourceWordsBytes?: number;
  /** Closes the request behind `source` (the network connection), at once; called when the load fails. */
  closeSource?: () => void;
  /** Names the source in errors. */
  url: string;
  /** Total bytes expected (`Content-Length`), used to size column buffers up front. */
  bytesTotal: number | null;
  columns?: readonly string[];
  /** Per-column or table-wide encodings (default `'auto'`). */
  encodings?: EncodingRequest;
  /** `'skip'` loads the columns that have a GPU encoding and lists the others; default `'error'`. */
  unsupported?: 'error' | 'skip';
  /** Most distinct values of a dictionary column. */
  maxDictionary?: number;
  /** Largest chunk of one column's buffer, in bytes (default: what the device binds and allocates). */
  chunkBytes?: number;
  /** Rows the source holds, when known in advance: every chunk is then allocated once. */
  rows?: number;
  upload: UploadStrategy;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  /** Called, in order, each time rows land on the GPU; the table's `numRows` and `columns` then include them. */
  onUpdate?: (update: TableUpdate) => void;
  queueCapacity?: number;
  /** When the caller's `load` began (`performance.now()`), so that times include opening the source. */
  startedAt?: number;
  /** Bytes read ahead of decoding plus bytes of queued batches (default 32 MiB; the read-ahead keeps ≥ 4 MiB). */
  readAheadBytes?: number;
  /** `source` is read ahead on another thread (`ByteSource.readsAhead`): the read-ahead here keeps about a chunk of it. */
  sourceReadsAhead?: boolean;
  limits?: FramerLimits;
  /**
   * Decode workers for this load; fewer than 2 workers: decoded on this thread. With `minBatchBytes`, only
   * when the source's first record batch body is at least that long (smaller ones: on this thread).
   */
  decode?: { pool: DecodePool; workers: number; minBatchBytes?: number };
}

/** Default bytes read ahead of decoding: enough to cover upload stalls, bounded whatever the file size. */
export const DEFAULT_READ_AHEAD_BYTES = 32 << 20;

/** Room a first batch's staging slot keeps past its values (partial validity words at piece edges). */
const SLOT_SLACK_BYTES = 64 << 10;

/** Record batch bodies smaller than this are read by the loader even when decode workers could. */
const MIN_DEFERRED_BODY_BYTES = 1 << 20;

/** A column's words in a batch smaller than this are sent by its decode worker, not read into staging. */
const MIN_SOURCE_WORDS_BYTES = 256 << 10;

/** The read-ahead never shrinks below this, however much the queue holds. */
const MIN_READ_AHEAD_BYTES = 4 << 20;

/**
 * How far a load reads ahead of a source that another thread reads ahead (the read worker, which holds
 * the lead): one of that worker's chunks, the next being on its way.
 */
const BESIDE_READ_AHEAD_BYTES = READ_CHUNK_BYTES;

/**
 * A table whose columns are on the GPU. While its load runs (a table from `openPipeline`), `numRows`,
 * `columns` and `stats` describe the rows that have landed so far, and `live` the load.
 */
export interface LoadedTable {
  numRows: number;
  columns: UploadedColumn[];
  /** Columns left out by `unsupported: 'skip'`. */
  skipped: SkippedColumn[];
  stats: LoadStats;
  /** The load that fills the table (absent from tables made some other way). */
  live?: LiveLoad;
}

/** A load under way: its table, whose rows grow as batches land, and its end. */
export interface OpenedLoad {
  table: LoadedTable;
  /** The table once every batch landed; rejects as `runPipeline` would, once its buffers are destroyed. */
  done: Promise<LoadedTable>;
}

/**
 * Streams IPC bytes into GPU buffers: decode → bounded queue → upload, the stages running concurrently.
 * On failure or abort every buffer the load made is destroyed before the error is thrown.
 */
export async function runPipeline(input: PipelineInput): Promise<LoadedTable> {
  return (await new Load(input, false).open()).done;
}

/**
 * Starts a load and resolves as soon as the source's schema is known (and, given a `rows` hint, the
 * first buffers made), with a table that fills as batches land; `done` settles when the load ends.
 */
export function openPipeline(input: PipelineInput): Promise<OpenedLoad> {
  return new Load(input, true).open();
}

/**
 * One load: `produce` decodes batches into the queue, `consume` uploads them. The first failure of
 * any stage (or the abort) decides the rejection; the cancellations it causes downstream never replace it.
 */
class Load {
  readonly #input: PipelineInput;
  readonly #t0: number;
  readonly #readAhead: ReadAhead;
  #sourceClosed = false;
  readonly #framer: IpcFramer;
  readonly #pool = new BytePool();
  readonly #queue: BoundedQueue<QueuedBatch>;
  /** The load's decode workers, when it has them. */
  #pooled: PooledStream | null = null;
  /** Milliseconds waited for the messages read to tell the size of the first record batch. */
  #readAheadWaitMs = 0;
  /** By default (`minBatchBytes`): the first record batch's body was large enough for the decode workers. */
  #firstBatchToWorkers = false;
  readonly #uploadAbort = new AbortController();
  readonly #watch: GpuErrorWatch;
  readonly #uncapturedBefore: number;
  #failure: { error: unknown } | null = null;
  #queuedBytes = 0;
  /** Wakes the framer waiting for queued bytes to drain (see `#roomFor`). */
  #wakeFramer: (() => void) | null = null;
  #batches = 0;
  #firstOnGpu = -1;
  #lastEndOffset = 0;
  /** Where the first record batch's message starts in the source. */
  #firstBatchOffset = 0;
  #uploader: TableUploader | null = null;
  #transport: UploadTransport | null = null;
  #publisher: TablePublisher | null = null;
  /** Settles (never rejects) once the load has ended; set when it opened. */
  #ended: Promise<void> = Promise.resolve();
  readonly #onAbort = () => this.#fail(loadAborted(this.#input.url));
  readonly #live: LiveLoad = {
    failure: null,
    ended: false,
    updates: 0,
    cancel: () => {
      this.#fail(loadAborted(this.#input.url));
      return this.#ended;
    },
  };
  #progress: ProgressThrottle<LoadProgress> | null;
  /** The first record batch's header, once read (its body may still be arriving). */
  #firstHeader: MessageHeaderInfo | null = null;

  /** `readWhileLoading`: the table is read as it fills, so its first rows must land fast. */
  constructor(
    input: PipelineInput,
    readonly readWhileLoading: boolean,
  ) {
    this.#input = input;
    this.#t0 = input.startedAt ?? performance.now();
    // Bytes read ahead and batches queued share one budget: large batches already buffer the network in
    // the queue, so the read-ahead shrinks for them and the worker's memory stays flat whatever the file size.
    // A source read ahead on another thread (a read worker) holds the lead there: this read-ahead then
    // keeps a chunk, and this thread's memory no longer grows with the lead a long load builds.
    const budget = input.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
    // Batches out at decode workers count as queued.
    const queued = () => this.#queuedBytes + (this.#pooled?.inFlightBytes ?? 0);
    const readAheadBytes = input.sourceReadsAhead
      ? () => BESIDE_READ_AHEAD_BYTES
      : () => Math.max(MIN_READ_AHEAD_BYTES, budget - queued());
    this.#readAhead = new ReadAhead(input.source, readAheadBytes);
    this.#framer = new IpcFramer(
      this.#readAhead,
      input.url,
      input.limits ?? DEFAULT_FRAMER_LIMITS,
      input.readTail,
    );
    this.#framer.pool = this.#pool;
    this.#framer.onHeader = (header) => this.#onHeader(header);
    this.#framer.beforeBody = (header) => this.#roomFor(header, budget);
    this.#queue = new BoundedQueue<QueuedBatch>(input.queueCapacity ?? 2);
    this.#watch = new GpuErrorWatch(input.gpu.device);
    this.#uncapturedBefore = input.gpu.uncapturedErrors;
    this.#progress = input.onProgress ? new ProgressThrottle(input.onProgress) : null;
  }

  /** Opens the source and starts every stage; see `openPipeline`. */
  async open(): Promise<OpenedLoad> {
    const { signal, url } = this.#input;
    if (signal?.aborted) throw loadAborted(url);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      const stream = await abortable(this.#openStream(), signal, () => loadAborted(url));
      const { schema, unreadable, runEndEncoded } = stream;
      const { plans, skipped } = planColumns(schema, this.#input, url, unreadable, runEndEncoded);
      if ('direct' in stream) stream.direct = directReader(schema, stream.layout, plans, url);
      const uploader = this.#startUpload(plans);
      await uploader.prepare(this.#input.rows ?? 0);
      this.#prepareFirstBatch();
      this.#throwIfFailed(); // aborted while the first buffers were made
      const table: LoadedTable = {
        ...{ numRows: 0, columns: uploader.columns(0), skipped },
        ...{ stats: this.#stats(stream, uploader), live: this.#live },
      };
      const transport = this.#transport as UploadTransport;
      const queue = this.#input.gpu.device.queue;
      const watch = this.#watch;
      // Rows land once their writes are done and none of the load's GPU work so far failed (on the
      // caller's device, a column's first validity words are written outside the transport).
      const landed = () => Promise.all([transport.landed?.() ?? queue.onSubmittedWorkDone(), watch.settle()]);
      const publisher = new TablePublisher(
        table,
        landed,
        (rows) => uploader.columns(rows),
        this.#input.onUpdate,
      );
      this.#publisher = publisher;
      const done = this.#finish(table, stream, uploader, plans);
      this.#ended = done.then(
        () => {},
        () => {},
      );
      return { table, done };
    } catch (error) {
      throw await this.#cleanup(error);
    }
  }

  /** The source's batches: decoded here, or by the decode workers (the schema still read here). */
  async #openStream(): Promise<BatchStream<PreparedBatch> | PooledStream> {
    const { decode, url } = this.#input;
    if (!decode || decode.workers < 2) return openBatchStream<PreparedBatch>(this.#framer, url);
    if (decode.minBatchBytes === undefined) return this.#openPooled(decode, this.#framer);
    // A table read as it fills is handed out at its schema: reading on to the first batch to size the
    // batches would hold that back (a live stream may send its first batch only later), so by default
    // its batches decode here.
    if (this.readWhileLoading) return openBatchStream<PreparedBatch>(this.#framer, url);
    const first = await readToFirstBatch(
      this.#framer,
      this.#chooseAtFirstHeader(decode, decode.minBatchBytes),
    );
    this.#readAheadWaitMs = first.waitMs;
    // A source without record batches never chose: nothing to send out.
    return this.#firstBatchToWorkers
      ? this.#openPooled(decode, first.messages)
      : openBatchStream<PreparedBatch>(first.messages, url);
  }

  /**
   * Settles as the framer reads the first record batch's header, having set `#firstBatchToWorkers`
   * (a body of at least `minBytes`). Decided there, before the body is read, so that the workers may
   * read that body themselves and its buffers are made while it arrives.
   */
  #chooseAtFirstHeader(decode: NonNullable<PipelineInput['decode']>, minBytes: number): Promise<void> {
    const framer = this.#framer;
    const onHeader = framer.onHeader;
    return new Promise<void>((resolve) => {
      framer.onHeader = (header) => {
        if (header.kind === MessageKind.RecordBatch) {
          framer.onHeader = onHeader;
          this.#firstBatchToWorkers = header.bodyLength >= minBytes;
          if (this.#firstBatchToWorkers) this.#deferBodiesToWorkers(decode);
          resolve();
        }
        onHeader?.(header);
      };
    });
  }

  /** Where the decode workers can read the bodies the source holds whole: the loader thread never touches those bytes. */
  #deferBodiesToWorkers(decode: NonNullable<PipelineInput['decode']>): void {
    const { bodyFile, bytesTotal } = this.#input;
    if (bodyFile === undefined || !decode.pool.readsBodies || bytesTotal == null) return;
    // Small bodies are read with the headers around them: a worker's own read would save little.
    const min = this.#input.minDeferredBodyBytes ?? MIN_DEFERRED_BODY_BYTES;
    this.#framer.deferBody = (header, at) => header.bodyLength >= min && at + header.bodyLength <= bytesTotal;
  }

  /** The batches decoded by the decode workers, from `messages` (the framer's, some perhaps read ahead). */
  #openPooled(
    decode: NonNullable<PipelineInput['decode']>,
    messages: AsyncIterable<FramedMessage>,
  ): Promise<PooledStream> {
    const { url, columns, encodings, unsupported, bodyFile } = this.#input;
    const readsBodies = bodyFile !== undefined && decode.pool.readsBodies;
    const minWords = this.#input.minSourceWordsBytes ?? MIN_SOURCE_WORDS_BYTES;
    const source = {
      bodyFile: readsBodies ? bodyFile : null,
      minSourceWords: readsBodies && this.#readsIntoStaging() ? minWords : null,
    };
    const options = { columns, encodings, unsupported, ...source };
    this.#deferBodiesToWorkers(decode);
    const opening = openPooledStream(messages, url, { ...decode, options, bytePool: this.#pool });
    // Set even when the load failed meanwhile, so that its workers are handed back.
    return opening.then((pooled) => {
      this.#pooled = pooled;
      pooled.onFailure((error) => this.#fail(error));
      if (this.#failure) pooled.close(this.#failure.error);
      return pooled;
    });
  }

  /** Runs the stages to the end: the table with every row, or the first failure once its buffers are gone. */
  async #finish(
    table: LoadedTable,
    stream: BatchStream<PreparedBatch> | PooledStream,
    uploader: TableUploader,
    plans: readonly ColumnPlan[],
  ): Promise<LoadedTable> {
    try {
      await Promise.allSettled([
        this.#produce(stream, plans).catch((error: unknown) => this.#fail(error)),
        this.#consume(uploader).catch((error: unknown) => this.#fail(error)),
      ]);
      this.#pooled?.close(new Error('the load ended'));
      this.#throwIfFailed();
      this.#checkUncaptured();
      await this.#publisher?.settled();
      this.#throwIfFailed(); // a cancel while the last rows were being published
      await uploader.releaseUnused();
      this.#input.gpu.tracker.releaseDestroyed(); // chunks made ahead for rows that never came
      Object.assign(table, { numRows: uploader.rows, columns: uploader.columns() });
      table.stats = this.#stats(stream, uploader);
      this.#live.ended = true;
      this.#progress?.final(performance.now(), this.#snapshot());
      return table;
    } catch (error) {
      throw await this.#cleanup(error);
    } finally {
      this.#input.signal?.removeEventListener('abort', this.#onAbort);
    }
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }

  /** Stops the load after `error` and destroys everything it made; the error the load rejects with. */
  async #cleanup(error: unknown): Promise<ArrowGpuError> {
    this.#fail(error);
    this.#input.signal?.removeEventListener('abort', this.#onAbort);
    // Marked failed before its buffers go: a read of the table that sees them destroyed knows why.
    const decided = this.#decided();
    Object.assign(this.#live, { failure: decided, ended: true });
    this.#transport?.release();
    // The source is closed once this returns: no read from it may still be writing into staging memory.
    await this.#transport?.settled?.();
    await this.#uploader?.destroy();
    // A staging slot made for this load's first batch and never used goes with the load.
    if (!this.#input.gpu.transport) await this.#input.gpu.ring.discardPrepared();
    this.#input.gpu.tracker.releaseDestroyed();
    return decided;
  }

  /** Records the first failure and stops every stage: the queue, the upload and the source. */
  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    this.#progress?.stop();
    this.#publisher?.stop();
    // Batches dropped from the queue hand back what their decode worker lent.
    for (const dropped of this.#queue.abort(error)) dropped.recycle?.();
    this.#pooled?.close(error);
    this.#uploadAbort.abort(error);
    this.#wakeFramer?.();
    this.#closeSource();
    void this.#framer.cancel().catch(() => {});
    void this.#readAhead.cancel().catch(() => {});
  }

  /** Closes the request behind the source, once: when the messages ended, or when the load failed. */
  #closeSource(): void {
    if (this.#sourceClosed) return;
    this.#sourceClosed = true;
    this.#input.closeSource?.();
  }

  /** The error the load rejects with: the first failure, as a library error naming the source. */
  #decided(): ArrowGpuError {
    const error = asArrowGpuError(this.#failure?.error);
    error.details.url ??= this.#input.url; // GPU errors know the buffer, not the source
    return error;
  }

  #startUpload(plans: ColumnPlan[]): TableUploader {
    const { gpu, upload, bytesTotal } = this.#input;
    const transport = gpu.transport?.() ?? this.#localTransport(upload === 'staging');
    this.#transport = transport;
    // Column buffers are sized from a `rows` hint, else from the bytes seen so far against Content-Length,
    // with a margin (2%, and the batch being appended) since a chunk too short costs one more chunk.
    const hint = this.#input.rows ?? 0;
    const expectedRows = (rowsAfter: number) => {
      if (hint > 0) return Math.max(hint, rowsAfter);
      const start = this.#firstBatchOffset;
      if (!bytesTotal || this.#lastEndOffset <= start) return 0;
      // Bytes a row takes in the batches so far (the schema and first dictionaries left out).
      const estimate = (rowsAfter * (bytesTotal - start)) / (this.#lastEndOffset - start);
      return Math.ceil(estimate * 1.02) + (rowsAfter - (this.#uploader?.rows ?? 0));
    };
    const uploader = new TableUploader(gpu.device, gpu.tracker, transport, this.#watch, plans, {
      expectedRows,
      maxDictionary: this.#input.maxDictionary,
      chunkBytes: this.#input.chunkBytes,
      quickFirstChunk: this.readWhileLoading,
      awaitCreation: gpu.transport !== undefined,
    });
    this.#uploader = uploader;
    return uploader;
  }

  /**
   * Uploads on this thread: staging buffers or `writeBuffer`. A table read while it loads writes a batch
   * that comes alone with `writeBuffer` (see `LoneBatchTransport`), so that its rows land sooner.
   */
  #localTransport(staging: boolean): UploadTransport {
    const { device, ring } = this.#input.gpu;
    if (!staging) return new WriteBufferTransport(device);
    const reads = this.#readsIntoStaging() ? this.#readSource() : undefined;
    const staged = new StagingTransport(device, ring, this.#watch, this.#uploadAbort.signal, reads);
    return this.readWhileLoading ? new LoneBatchTransport(staged, new WriteBufferTransport(device)) : staged;
  }

  /**
   * Whether words already in GPU form are read from the source straight into staging memory: a source
   * read at a position, staging buffers on this thread, and a table not read while it loads (whose
   * lone batches go through `writeBuffer`).
   */
  #readsIntoStaging(): boolean {
    const { readAt, upload, gpu } = this.#input;
    return readAt !== undefined && upload === 'staging' && !gpu.transport && !this.readWhileLoading;
  }

  /** `readAt` as the staging transport reads: the whole target, or `NETWORK` / `TRUNCATED` at its offset. */
  #readSource(): ReadSource {
    const { readAt, url } = this.#input;
    const read = readAt as NonNullable<PipelineInput['readAt']>;
    return async (target, position) => {
      let got: number;
      try {
        got = await read(target, position);
      } catch (error) {
        throw unreadable(url, position, error);
      }
      if (got < target.byteLength) throw truncated(url, position + got, target.byteLength - got);
    };
  }

  /** The first record batch's header is read: its buffers are made while its body arrives. */
  #onHeader(header: MessageHeaderInfo): void {
    if (this.#firstHeader || header.kind !== MessageKind.RecordBatch) return;
    this.#firstHeader = header;
    this.#prepareFirstBatch();
  }

  /**
   * Makes the first batch's column chunks and a staging slot for it, once both its header and the
   * columns are known. A header whose rows its body could not hold (over 16 GPU bytes for each body
   * byte) makes nothing: its shape is checked once the body is in.
   */
  #prepareFirstBatch(): void {
    const uploader = this.#uploader;
    const header = this.#firstHeader;
    if (!uploader || !header || this.#failure) return;
    const bytes = header.rows * uploader.bytesPerRow;
    if (bytes > header.bodyLength * 16 + (1 << 20)) return;
    uploader.prepareFirstBatch(header.rows);
    // The slot's first use is this batch alone (later ones are made larger, to coalesce batches).
    const { gpu, upload, bytesTotal } = this.#input;
    if (upload !== 'staging' || gpu.transport) return;
    gpu.ring.prepare(bytes + SLOT_SLACK_BYTES, 0);
    // A load that fills more than one full slot makes the other now too, unless the ring has one.
    if ((bytesTotal ?? 0) > gpu.ring.minSlotBytes) gpu.ring.prepareSpare();
  }

  /**
   * Waits before a record batch's body is read while the batches queued and this one would pass
   * `budget` bytes (at least one is always let through): with large batches, the bytes held by the
   * queue, the batch being framed and the read-ahead stay within about the budget, as they do with small.
   */
  async #roomFor(header: MessageHeaderInfo, budget: number): Promise<void> {
    if (header.kind !== MessageKind.RecordBatch) return;
    while (this.#queuedBytes > 0 && this.#queuedBytes + header.bodyLength > budget && !this.#failure) {
      await new Promise<void>((resolve) => {
        this.#wakeFramer = resolve;
      });
      this.#wakeFramer = null;
    }
  }

  async #produce(
    stream: BatchStream<PreparedBatch> | PooledStream,
    plans: readonly ColumnPlan[],
  ): Promise<void> {
    const { url } = this.#input;
    // Decode workers and the direct reader check their batches; apache-arrow's are checked here.
    const batches: AsyncIterable<QueuedBatch> = 'close' in stream ? stream.batches(plans) : stream.batches;
    for await (const decoded of batches) {
      if (!('slices' in decoded.batch)) {
        checkBatch(decoded.batch, plans, { url, batch: decoded.index, byteOffset: decoded.byteOffset });
      }
      const bytes = decoded.endOffset - decoded.byteOffset;
      this.#queuedBytes += bytes;
      await this.#queue.enqueue(decoded).catch((error: unknown) => {
        this.#queuedBytes -= bytes;
        decoded.recycle?.();
        throw error;
      });
      this.#progress?.tick(performance.now(), () => this.#snapshot());
    }
    // Every byte the messages need is read (a stream's end-of-stream marker, a file's footer), so the
    // request is closed rather than read to its end: Chromium ends a chunked response on this thread,
    // at about 2.5 ms a MB, and the last rows would wait for that before being published.
    this.#closeSource();
    this.#queue.close();
  }

  async #consume(uploader: TableUploader): Promise<void> {
    const transport = this.#transport as UploadTransport;
    const policy = new FlushPolicy(this.readWhileLoading);
    const publisher = this.#publisher as TablePublisher;
    let batchRows = 0;
    const flush = () => {
      transport.flush();
      policy.flushed(performance.now());
      this.#markFirstOnGpu();
      publisher.submitted();
      // Room for the next batch is made once these rows are on the GPU (see `growAhead`).
      const rows = batchRows;
      if (this.readWhileLoading)
        void publisher.settled().then(
          () => uploader.growAhead(rows),
          () => {},
        );
    };
    for (;;) {
      // Counted before the dequeue: a batch already waiting is taken at once, with no idle timer armed.
      const queued = this.#queue.size;
      const next = this.#queue.dequeue();
      if (await policy.idleBefore(next, transport.pendingBytes, queued)) flush();
      const decoded = await next;
      if (decoded === undefined) break;
      this.#queuedBytes -= decoded.endOffset - decoded.byteOffset;
      this.#wakeFramer?.();
      if (this.#batches === 0) this.#firstBatchOffset = decoded.byteOffset;
      this.#lastEndOffset = decoded.endOffset;
      // Alone: nothing queued behind it and no byte of another message read (a live stream between
      // batches, or its last batch with the end-of-stream marker behind it).
      const alone =
        this.#queue.size === 0 &&
        this.#readAhead.received <= decoded.endOffset + END_OF_STREAM_MARKER.byteLength;
      if (transport instanceof LoneBatchTransport) transport.nextBatch(alone);
      await uploader.append(decoded.batch);
      batchRows = decoded.batch.numRows;
      publisher.appended(decoded.index, uploader.rows, decoded.readAt);
      // Its values are on their way (copied into staging memory or taken by writeBuffer): reuse the bytes.
      if (decoded.pooledBody) this.#pool.release(decoded.pooledBody);
      if (decoded.heldBody) releaseShared(decoded.heldBody);
      decoded.recycle?.();
      this.#batches++;
      const now = performance.now();
      if (policy.afterBatch(now, transport.flushWouldStall, alone)) flush();
      // Held back for a staging buffer: batches already read can follow each other without a task
      // boundary, so a new task lets the GPU's callbacks (that buffer mapped again) in.
      else if (policy.overdue(now)) await nextTask();
      this.#progress?.tick(performance.now(), () => this.#snapshot());
    }
    // The last rows are published once their copy is done, not once every staging buffer is mapped again.
    transport.flush();
    publisher.submitted();
    await transport.finish();
    await this.#watch.settle();
  }

  #markFirstOnGpu(): void {
    if (this.#firstOnGpu >= 0) return;
    this.#firstOnGpu = 0;
    // A staged slot may wait for its reads before it is submitted (see `StagingTransport.landed`).
    const transport = this.#transport;
    const staged = transport instanceof StagingTransport ? transport.landed?.() : undefined;
    void (staged ?? this.#input.gpu.device.queue.onSubmittedWorkDone()).then(
      () => {
        this.#firstOnGpu = performance.now() - this.#t0;
        this.#uploader?.reserveAhead();
      },
      () => {},
    );
  }

  /** A WebGPU error outside every scope of this load still means its buffers cannot be trusted. */
  #checkUncaptured(): void {
    const { gpu } = this.#input;
    if (gpu.uncapturedErrors === this.#uncapturedBefore) return;
    throw new GpuError(
      'GPU_VALIDATION',
      `The GPU reported an error outside any error scope while ${this.#input.url} loaded: ${gpu.lastUncapturedError}`,
      { url: this.#input.url },
    );
  }

  #snapshot(): LoadProgress {
    return {
      bytesFetched: this.#readAhead.received,
      bytesTotal: this.#input.bytesTotal,
      batches: this.#batches,
      rows: this.#uploader?.rows ?? 0,
      bytesUploaded: this.#uploader?.bytesUploaded ?? 0,
      queueDepth: this.#queue.size,
      uploadsInFlight: this.#transport?.inFlight ?? 0,
      elapsedMs: performance.now() - this.#t0,
    };
  }

  #stats(stream: BatchStream<PreparedBatch> | PooledStream, uploader: TableUploader): LoadStats {
    const transport = this.#transport as UploadTransport;
    const msTotal = performance.now() - this.#t0;
    return {
      upload: this.#input.upload,
      batches: this.#batches,
      bytesFetched: this.#readAhead.received,
      bytesUploaded: uploader.bytesUploaded,
      maxQueueDepth: this.#queue.peakSize,
      maxUploadsInFlight: transport.maxInFlight,
      msToFirstBatch: this.#firstOnGpu > 0 ? this.#firstOnGpu : msTotal,
      msTotal,
      messageBuffers: this.#pool.allocations,
      bytesReadByWorkers: this.#framer.deferredBytes,
      bytesReadIntoStaging: transport instanceof StagingTransport ? transport.bytesFromSource : 0,
      decodeWorkers: this.#pooled ? (this.#input.decode?.workers ?? 0) : 0,
      stages: {
        fetchWaitMs: stream.fetchWaitMs + this.#readAheadWaitMs,
        decodeMs: stream.decodeMs,
        encodeMs: uploader.encodeMs,
        dictionaryMs: uploader.dictionaryMs,
        gpuWaitMs: transport.waitMs,
      },
    };
  }
}
