import type { LoadProgress, LoadStats, UploadStrategy } from '../../types.js';
import { checkBatch } from '../columns/check-batch.js';
import type { EncodingRequest } from '../columns/encoding.js';
import { type ColumnPlan, planColumns, type SkippedColumn } from '../columns/type-plan.js';
import { type ArrowGpuError, asArrowGpuError, GpuError, loadAborted } from '../errors.js';
import type { BufferTracker } from '../gpu/buffer-tracker.js';
import { GpuErrorWatch } from '../gpu/error-scope.js';
import type { StagingRing } from '../gpu/upload/staging-ring.js';
import { StagingTransport } from '../gpu/upload/staging-transport.js';
import { TableUploader, type UploadedColumn } from '../gpu/upload/table-uploader.js';
import type { UploadTransport } from '../gpu/upload/transport.js';
import { WriteBufferTransport } from '../gpu/upload/write-buffer-transport.js';
import { type BatchStream, type DecodedBatch, openBatchStream } from '../ipc/decode.js';
import { DEFAULT_FRAMER_LIMITS, type FramerLimits, IpcFramer } from '../ipc/framer.js';
import { BytePool } from '../source/byte-pool.js';
import type { ReadTail } from '../source/byte-source.js';
import { ReadAhead } from '../source/read-ahead.js';
import { abortable } from './async-utils.js';
import { BoundedQueue } from './bounded-queue.js';
import { FlushPolicy } from './flush-policy.js';
import { ProgressThrottle } from './progress-throttle.js';

/** The GPU side a load writes into: one device, its buffer tracker and its shared staging ring. */
export interface GpuTarget {
  device: GPUDevice;
  tracker: BufferTracker;
  ring: StagingRing;
  /** Errors the device raised outside any error scope so far (its `uncapturederror` events). */
  readonly uncapturedErrors: number;
  /** The message of the last of those. */
  readonly lastUncapturedError: string | null;
}

/** Everything one load needs; nothing here depends on the DOM or a worker scope. */
export interface PipelineInput {
  gpu: GpuTarget;
  /** The IPC bytes as they arrive. */
  source: AsyncIterable<Uint8Array>;
  /** Reads the source's last bytes; needed for files whose schema is only in the footer. */
  readTail?: ReadTail;
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
  queueCapacity?: number;
  /** When the caller's `load` began (`performance.now()`), so that times include opening the source. */
  startedAt?: number;
  /** Bytes read ahead of decoding plus bytes of queued batches (default 32 MiB; the read-ahead keeps ≥ 4 MiB). */
  readAheadBytes?: number;
  limits?: FramerLimits;
}

/** Default bytes read ahead of decoding: enough to cover upload stalls, bounded whatever the file size. */
export const DEFAULT_READ_AHEAD_BYTES = 32 << 20;

/** The read-ahead never shrinks below this, however much the queue holds. */
const MIN_READ_AHEAD_BYTES = 4 << 20;

/** A table whose columns are on the GPU. */
export interface LoadedTable {
  numRows: number;
  columns: UploadedColumn[];
  /** Columns left out by `unsupported: 'skip'`. */
  skipped: SkippedColumn[];
  stats: LoadStats;
}

/**
 * Streams IPC bytes into GPU buffers: decode → bounded queue → upload, the stages running concurrently.
 * On failure or abort every buffer the load made is destroyed before the error is thrown.
 */
export function runPipeline(input: PipelineInput): Promise<LoadedTable> {
  return new Load(input).run();
}

/**
 * One load: `produce` decodes batches into the queue, `consume` uploads them. The first failure of
 * any stage (or the abort) decides the rejection; the cancellations it causes downstream never replace it.
 */
class Load {
  readonly #input: PipelineInput;
  readonly #t0: number;
  readonly #readAhead: ReadAhead;
  readonly #framer: IpcFramer;
  readonly #pool = new BytePool();
  readonly #queue: BoundedQueue<DecodedBatch>;
  readonly #uploadAbort = new AbortController();
  readonly #watch: GpuErrorWatch;
  readonly #uncapturedBefore: number;
  #failure: { error: unknown } | null = null;
  #queuedBytes = 0;
  #batches = 0;
  #firstOnGpu = -1;
  #lastEndOffset = 0;
  #uploader: TableUploader | null = null;
  #transport: UploadTransport | null = null;
  #progress: ProgressThrottle<LoadProgress> | null;
  /** Staging slots are sized for two of the largest batches seen so far. */
  readonly #preferredSlot = { bytes: 0 };

  constructor(input: PipelineInput) {
    this.#input = input;
    this.#t0 = input.startedAt ?? performance.now();
    // Bytes read ahead and batches queued share one budget: large batches already buffer the network in
    // the queue, so the read-ahead shrinks for them and the worker's memory stays flat whatever the file size.
    const budget = input.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
    this.#readAhead = new ReadAhead(input.source, () =>
      Math.max(MIN_READ_AHEAD_BYTES, budget - this.#queuedBytes),
    );
    this.#framer = new IpcFramer(
      this.#readAhead,
      input.url,
      input.limits ?? DEFAULT_FRAMER_LIMITS,
      input.readTail,
    );
    this.#framer.pool = this.#pool;
    this.#queue = new BoundedQueue<DecodedBatch>(input.queueCapacity ?? 2);
    this.#watch = new GpuErrorWatch(input.gpu.device);
    this.#uncapturedBefore = input.gpu.uncapturedErrors;
    this.#progress = input.onProgress ? new ProgressThrottle(input.onProgress) : null;
  }

  async run(): Promise<LoadedTable> {
    const { signal, url } = this.#input;
    if (signal?.aborted) throw loadAborted(url);
    const onAbort = () => this.#fail(loadAborted(url));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const stream = await abortable(openBatchStream(this.#framer, url), signal, () => loadAborted(url));
      const { plans, skipped } = planColumns(stream.schema, this.#input, url, stream.unreadable);
      const uploader = this.#startUpload(plans);
      await Promise.allSettled([
        this.#produce(stream, plans).catch((error: unknown) => this.#fail(error)),
        this.#consume(uploader).catch((error: unknown) => this.#fail(error)),
      ]);
      if (this.#failure) throw this.#failure.error;
      this.#checkUncaptured();
      const stats = this.#stats(stream, uploader);
      this.#progress?.final(performance.now(), this.#snapshot());
      return { numRows: uploader.rows, columns: uploader.columns(), skipped, stats };
    } catch (error) {
      this.#fail(error);
      this.#transport?.release();
      this.#uploader?.destroy();
      throw this.#decided();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Records the first failure and stops every stage: the queue, the upload and the source. */
  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    this.#queue.abort(error);
    this.#uploadAbort.abort(error);
    this.#input.closeSource?.();
    void this.#framer.cancel().catch(() => {});
    void this.#readAhead.cancel().catch(() => {});
  }

  /** The error the load rejects with: the first failure, as a library error naming the source. */
  #decided(): ArrowGpuError {
    const error = asArrowGpuError(this.#failure?.error);
    error.details.url ??= this.#input.url; // GPU errors know the buffer, not the source
    return error;
  }

  #startUpload(plans: ColumnPlan[]): TableUploader {
    const { gpu, upload, bytesTotal } = this.#input;
    const preferredSlot = this.#preferredSlot;
    const transport =
      upload === 'staging'
        ? new StagingTransport(
            gpu.device,
            gpu.ring,
            this.#watch,
            () => preferredSlot.bytes,
            this.#uploadAbort.signal,
          )
        : new WriteBufferTransport(gpu.device);
    this.#transport = transport;
    // Column buffers are sized from a `rows` hint, else from the bytes seen so far against Content-Length,
    // with a margin (2%, and the batch being appended) since a chunk too short costs one more chunk.
    const hint = this.#input.rows ?? 0;
    const expectedRows = (rowsAfter: number) => {
      if (hint > 0) return Math.max(hint, rowsAfter);
      if (!bytesTotal || this.#lastEndOffset <= 0) return 0;
      const estimate = (rowsAfter * bytesTotal) / this.#lastEndOffset;
      return Math.ceil(estimate * 1.02) + (rowsAfter - (this.#uploader?.rows ?? 0));
    };
    const uploader = new TableUploader(gpu.device, gpu.tracker, transport, this.#watch, plans, {
      expectedRows,
      maxDictionary: this.#input.maxDictionary,
      chunkBytes: this.#input.chunkBytes,
    });
    this.#uploader = uploader;
    return uploader;
  }

  async #produce(stream: BatchStream, plans: ColumnPlan[]): Promise<void> {
    const { url } = this.#input;
    for await (const decoded of stream.batches) {
      checkBatch(decoded.batch, plans, { url, batch: decoded.index, byteOffset: decoded.byteOffset });
      const bytes = decoded.endOffset - decoded.byteOffset;
      this.#queuedBytes += bytes;
      await this.#queue.enqueue(decoded).catch((error: unknown) => {
        this.#queuedBytes -= bytes;
        throw error;
      });
      this.#progress?.tick(performance.now(), () => this.#snapshot());
    }
    this.#queue.close();
  }

  async #consume(uploader: TableUploader): Promise<void> {
    const transport = this.#transport as UploadTransport;
    const policy = new FlushPolicy();
    const flush = () => {
      transport.flush();
      policy.flushed(performance.now());
      this.#markFirstOnGpu();
    };
    for (;;) {
      const next = this.#queue.dequeue();
      if (await policy.idleBefore(next, transport.pendingBytes, this.#queue.size)) flush();
      const decoded = await next;
      if (decoded === undefined) break;
      this.#queuedBytes -= decoded.endOffset - decoded.byteOffset;
      this.#lastEndOffset = decoded.endOffset;
      this.#preferredSlot.bytes = Math.max(
        this.#preferredSlot.bytes,
        decoded.batch.numRows * uploader.bytesPerRow * 2,
      );
      await uploader.append(decoded.batch);
      // Its values are on their way (copied into staging memory or taken by writeBuffer): reuse the bytes.
      if (decoded.pooledBody) this.#pool.release(decoded.pooledBody);
      this.#batches++;
      if (policy.afterBatch(performance.now())) flush();
      this.#progress?.tick(performance.now(), () => this.#snapshot());
    }
    await transport.finish();
    await this.#watch.settle();
  }

  #markFirstOnGpu(): void {
    if (this.#firstOnGpu >= 0) return;
    this.#firstOnGpu = 0;
    void this.#input.gpu.device.queue.onSubmittedWorkDone().then(
      () => {
        this.#firstOnGpu = performance.now() - this.#t0;
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

  #stats(stream: BatchStream, uploader: TableUploader): LoadStats {
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
      stages: {
        fetchWaitMs: stream.fetchWaitMs,
        decodeMs: stream.decodeMs,
        encodeMs: uploader.encodeMs,
        dictionaryMs: uploader.dictionaryMs,
        gpuWaitMs: transport.waitMs,
      },
    };
  }
}
