import type { LoadProgress, LoadStats, UploadStrategy } from '../types.js';
import { abortable, arrivesWithin, settleBoth } from './async-utils.js';
import { checkBatch } from './batch-check.js';
import { type DecodedBatch, openBatchStream } from './batch-stream.js';
import { BoundedQueue } from './bounded-queue.js';
import type { BufferTracker } from './buffer-tracker.js';
import { BytePool } from './byte-pool.js';
import { planColumns } from './column-layout.js';
import { ArrowGpuError, DecodeError, loadAborted } from './errors.js';
import { DEFAULT_FRAMER_LIMITS, type FramerLimits, IpcFramer, type ReadTail } from './ipc-framer.js';
import { ProgressThrottle } from './progress-throttle.js';
import { ReadAhead } from './read-ahead.js';
import type { StagingRing } from './staging-ring.js';
import { StagingTransport } from './staging-transport.js';
import { TableUploader, type UploadedColumn } from './table-uploader.js';
import type { UploadTransport } from './upload-transport.js';
import { WriteBufferTransport } from './write-buffer-transport.js';

/** The GPU side a load writes into: one device, its buffer tracker and its shared staging ring. */
export interface GpuTarget {
  device: GPUDevice;
  tracker: BufferTracker;
  ring: StagingRing;
}

/** Everything one load needs; nothing here depends on the DOM or a worker scope. */
export interface PipelineInput {
  gpu: GpuTarget;
  /** The IPC bytes as they arrive. */
  source: AsyncIterable<Uint8Array>;
  /** Reads the source's last bytes; needed for files whose schema is only in the footer. */
  readTail?: ReadTail;
  /** Names the source in errors. */
  url: string;
  /** Total bytes expected (`Content-Length`), used to size column buffers up front. */
  bytesTotal: number | null;
  columns?: readonly string[];
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
  stats: LoadStats;
}

/**
 * Streams IPC bytes into GPU buffers: decode → bounded queue → upload, the stages running concurrently.
 * On failure or abort every buffer the load made is destroyed before the error is thrown.
 */
export async function runPipeline(input: PipelineInput): Promise<LoadedTable> {
  const { gpu, url, signal } = input;
  const t0 = input.startedAt ?? performance.now();
  const aborted = () => loadAborted(url);
  if (signal?.aborted) throw aborted();

  // Bytes read ahead and batches queued share one budget: large batches already buffer the network in
  // the queue, so the read-ahead shrinks for them and the worker's memory stays flat whatever the file size.
  const budget = input.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
  let queuedBytes = 0;
  const readAhead = new ReadAhead(input.source, () => Math.max(MIN_READ_AHEAD_BYTES, budget - queuedBytes));
  const framer = new IpcFramer(readAhead, url, input.limits ?? DEFAULT_FRAMER_LIMITS, input.readTail);
  const pool = new BytePool();
  framer.pool = pool;
  const stopSource = () => {
    void framer.cancel().catch(() => {});
    void readAhead.cancel().catch(() => {});
  };
  const queue = new BoundedQueue<DecodedBatch>(input.queueCapacity ?? 2);
  const uploadAbort = new AbortController();
  const onAbort = () => {
    const error = aborted();
    queue.abort(error);
    uploadAbort.abort(error);
    stopSource();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  let uploader: TableUploader | null = null;
  let transport: UploadTransport | null = null;
  try {
    const stream = await abortable(openBatchStream(framer, url), signal, aborted);
    const plans = planColumns(stream.schema, input.columns, url);
    const preferredSlot = { bytes: 0 };
    transport =
      input.upload === 'staging'
        ? new StagingTransport(gpu.device, gpu.ring, () => preferredSlot.bytes, uploadAbort.signal)
        : new WriteBufferTransport(gpu.device);
    let lastEndOffset = 0;
    const expectedRows = (rowsAfter: number) =>
      input.bytesTotal && lastEndOffset > 0 ? Math.ceil((rowsAfter * input.bytesTotal) / lastEndOffset) : 0;
    const up = new TableUploader(gpu.device, gpu.tracker, transport, plans, expectedRows);
    uploader = up;
    const tr = transport;

    let batches = 0;
    let firstOnGpu = -1;
    const progress = input.onProgress ? new ProgressThrottle(input.onProgress) : null;
    const snapshot = (): LoadProgress => ({
      bytesFetched: readAhead.received,
      bytesTotal: input.bytesTotal,
      batches,
      rows: up.rows,
      bytesUploaded: up.bytesUploaded,
      queueDepth: queue.size,
      stagingInFlight: tr.inFlight,
      elapsedMs: performance.now() - t0,
    });

    const produce = async () => {
      for await (const decoded of stream.batches) {
        checkBatch(decoded.batch, plans, { url, batch: decoded.index, byteOffset: decoded.byteOffset });
        const bytes = decoded.endOffset - decoded.byteOffset;
        queuedBytes += bytes;
        await queue.enqueue(decoded).catch((error: unknown) => {
          queuedBytes -= bytes;
          throw error;
        });
        progress?.tick(performance.now(), snapshot);
      }
      queue.close();
    };
    const consume = async () => {
      let lastFlush = performance.now();
      const flush = () => {
        tr.flush();
        lastFlush = performance.now();
        if (firstOnGpu < 0) {
          firstOnGpu = 0;
          void gpu.device.queue.onSubmittedWorkDone().then(
            () => {
              firstOnGpu = performance.now() - t0;
            },
            () => {},
          );
        }
      };
      for (;;) {
        const next = queue.dequeue();
        // Batches coalesce into one submission until the next one is slow to come or a flush is due, so
        // that small batches do not cost one GPU round trip each while data never waits long on the CPU.
        if (tr.pendingBytes > 0 && queue.size === 0 && !(await arrivesWithin(next, IDLE_FLUSH_MS))) flush();
        const decoded = await next;
        if (decoded === undefined) break;
        queuedBytes -= decoded.endOffset - decoded.byteOffset;
        lastEndOffset = decoded.endOffset;
        preferredSlot.bytes = Math.max(preferredSlot.bytes, decoded.batch.numRows * up.bytesPerRow * 2);
        await up.append(decoded.batch);
        // Its values are on their way (copied into staging memory or taken by writeBuffer): reuse the bytes.
        if (decoded.pooledBody) pool.release(decoded.pooledBody);
        batches++;
        if (batches === 1 || performance.now() - lastFlush >= FLUSH_INTERVAL_MS) flush();
        progress?.tick(performance.now(), snapshot);
      }
      await tr.finish();
    };
    await settleBoth(
      produce().catch((error: unknown) => {
        queue.abort(error);
        throw error;
      }),
      consume().catch((error: unknown) => {
        // The upload failed: stop the download now rather than once the decoder notices.
        queue.abort(error);
        stopSource();
        throw error;
      }),
    );
    if (signal?.aborted) throw aborted();

    const msTotal = performance.now() - t0;
    progress?.final(performance.now(), snapshot());
    return {
      numRows: up.rows,
      columns: up.columns(),
      stats: {
        upload: input.upload,
        batches,
        bytesFetched: readAhead.received,
        bytesUploaded: up.bytesUploaded,
        maxQueueDepth: queue.peakSize,
        maxStagingInFlight: tr.maxInFlight,
        msToFirstBatch: firstOnGpu > 0 ? firstOnGpu : msTotal,
        msTotal,
        messageBuffers: pool.allocations,
        stages: {
          fetchWaitMs: stream.fetchWaitMs,
          decodeMs: stream.decodeMs,
          encodeMs: up.encodeMs,
          gpuWaitMs: tr.waitMs,
        },
      },
    };
  } catch (error) {
    transport?.release();
    uploader?.destroy();
    stopSource();
    if (signal?.aborted) throw aborted();
    throw asLoaderError(error, url);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Longest a batch waits in staging memory (or unflushed) while more keep coming. */
const FLUSH_INTERVAL_MS = 8;

/** A pause in the stream this long submits what is pending. */
const IDLE_FLUSH_MS = 2;

/** Internal faults never reach the caller raw: anything unexpected is reported as corrupt input. */
function asLoaderError(error: unknown, url: string): ArrowGpuError {
  if (error instanceof ArrowGpuError) {
    error.details.url ??= url; // GPU errors know the buffer, not the source
    return error;
  }
  return new DecodeError(
    'CORRUPT',
    `Loading ${url} failed: ${String((error as Error)?.message ?? error)}`,
    { url },
    { cause: error },
  );
}
