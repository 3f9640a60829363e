import type { RecordBatch } from 'apache-arrow';
import { columnBytes } from '../../columns/column-bytes.js';
import { type ColumnSlice, columnSlice, type PreparedBatch } from '../../columns/column-data.js';
import type { ColumnEncoder, ColumnExtras } from '../../columns/encoders/column-encoder.js';
import { createEncoder, type EncoderOptions } from '../../columns/encoders/create-encoder.js';
import { RunEndEncoder } from '../../columns/encoders/run-end-encoders.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { validityWordCount } from '../../columns/words.js';
import type { BufferTracker } from '../buffer-tracker.js';
import { ChunkLayout, rowsWithin } from '../chunk-layout.js';
import type { ColumnChunk } from '../chunked-buffer.js';
import type { GpuErrorWatch } from '../error-scope.js';
import { settleAll } from '../settle-all.js';
import { ColumnSink } from './column-sink.js';
import type { UploadTransport } from './transport.js';

/** A column chunk's GPU buffer and the rows it holds. */
export type BufferChunk = ColumnChunk & { buffer: GPUBuffer };

/** One column as uploaded: its value chunks and, when it had nulls, validity chunks over the same rows. */
export interface UploadedColumn {
  plan: ColumnPlan;
  /** Empty when the table has no rows (or the encoding has no words). */
  values: BufferChunk[];
  /** `null` when the column has no nulls. */
  validity: BufferChunk[] | null;
  nullCount: number;
  /** What the encoding adds: a relative encoding's offset, a dictionary's size. */
  extras: ColumnExtras & { dictionarySize?: number };
  /** The encoder, for what it keeps (a dictionary's values). */
  encoder: ColumnEncoder | null;
}

/** What sizes a table's buffers. */
export interface UploaderOptions extends EncoderOptions {
  /**
   * The rows to size buffers for once a batch ending at `rowsAfterBatch` is in (a hint, or an estimate
   * from Content-Length with its margin); 0: unknown.
   */
  expectedRows?: (rowsAfterBatch: number) => number;
  /** Largest chunk of one column, in bytes (default: what the device can bind and allocate). */
  chunkBytes?: number;
  /**
   * Size the first chunk for the first batch (twice its rows) rather than for the estimate, so that the
   * first rows land without waiting for the GPU to clear a large buffer; the next chunk takes the rest.
   * For tables read while they load; otherwise the fewest chunks win (one, when the estimate holds).
   */
  quickFirstChunk?: boolean;
  /**
   * Wait for the device's answer about new buffers before writing into them. For a device on another
   * thread, whose writer drops a buffer the device refused: the writes into it would fail first, and
   * less tellingly. Otherwise rows are written at once, and the answer comes before they are published.
   */
  awaitCreation?: boolean;
}

/**
 * Appends decoded batches to per-column GPU buffers through an `UploadTransport`. Batches larger than
 * the transport's chunk are split by rows, and so are writes that would cross a column chunk. Columns
 * grow by chunks of the table's `ChunkLayout`, sized ahead of the rows using `expectedRows`; a buffer,
 * once made, is never replaced.
 */
export class TableUploader {
  readonly #device: GPUDevice;
  readonly #transport: UploadTransport;
  readonly #watch: GpuErrorWatch;
  readonly #sinks: ColumnSink[];
  readonly #options: UploaderOptions;
  /** The chunks of every column: a multiple of 32 rows each, so validity words never straddle chunks. */
  readonly layout: ChunkLayout;
  /** Rows appended so far. */
  rows = 0;
  /** Bytes handed to the transport so far. */
  bytesUploaded = 0;
  /** Milliseconds spent encoding values into transport memory. */
  encodeMs = 0;
  /**
   * Buffers being made ahead of the rows that need them (see `prepareFirstBatch`, `reserveAhead`): settles
   * once they exist here (with `awaitCreation`, once the device has answered for them), or rejects with
   * a chunk over the limits or the device's refusal.
   */
  #made: Promise<void> = Promise.resolve();
  /** Rows of the chunks whose buffers are made. */
  #madeRows = 0;
  /**
   * The device's answers for chunks made ahead, from the first row they hold: each goes to the watch once
   * a row is written there, so that publishing rows never waits for a buffer none of them is in.
   */
  #unanswered: MadeChunks[] = [];
  /** Set once the rows are all in (or the load failed): nothing more is made ahead. */
  #closed = false;

  /** Of `encodeMs`, milliseconds spent in dictionary columns' encoders. */
  get dictionaryMs(): number {
    return this.#sinks.filter((s) => s.plan.encoding === 'dictionary').reduce((n, s) => n + s.encodeMs, 0);
  }

  constructor(
    device: GPUDevice,
    tracker: BufferTracker,
    transport: UploadTransport,
    watch: GpuErrorWatch,
    plans: readonly ColumnPlan[],
    options: UploaderOptions = {},
  ) {
    this.#device = device;
    this.#transport = transport;
    this.#watch = watch;
    this.#options = options;
    this.layout = new ChunkLayout(
      chunkRowsFor(plans, device.limits, options.chunkBytes),
      maxRowsFor(plans, tracker),
    );
    this.#sinks = plans.map((plan) => new ColumnSink(plan, tracker, this.layout));
  }

  /** GPU bytes one row of this table takes, validity words included. */
  get bytesPerRow(): number {
    return this.#sinks.reduce((n, s) => n + columnBytes(s.plan, 32) / 32 + (s.validity ? 1 / 8 : 0), 0);
  }

  /** Appends every row of `batch`: a decoded record batch, or one prepared by a decode worker. */
  async append(batch: RecordBatch | PreparedBatch): Promise<void> {
    this.#watch.throwIfFailed();
    const count = batch.numRows;
    if (count === 0 || this.#sinks.length === 0) {
      this.rows += count;
      return;
    }
    const prepared = 'slices' in batch ? batch.slices : null;
    const columns = this.#sinks.map((sink, i) => {
      const slice = prepared ? (prepared[i] as ColumnSlice) : columnSlice(batch as RecordBatch, sink.plan);
      sink.encoder ??= createEncoder(sink.plan, slice.data.type, this.#options);
      return slice;
    });
    await this.#reserve(columns, this.rows + count);
    const rowsPerPiece = this.#rowsPerPiece();
    for (let first = 0; first < count; ) {
      const row = this.rows + first;
      const chunk = this.layout.chunks[this.layout.indexOf(row)] as { rowOffset: number; capacity: number };
      const toChunkEnd = chunk.rowOffset + chunk.capacity - row;
      const piece = Math.min(rowsPerPiece, count - first, toChunkEnd);
      await this.#appendPiece(columns, first, piece);
      first += piece;
    }
    this.rows += count;
  }

  /**
   * Makes, in the background, the chunks that one more batch of `batchRows` rows would need, when the
   * room left would not hold it: the device makes the buffer (allocates, and a software GPU zeroes, its
   * memory) between batches rather than in front of the next batch's copy. Called once the rows so far
   * are on the GPU, so that making the buffer does not hold them back.
   */
  growAhead(batchRows: number): void {
    const rowsAfterNext = this.rows + batchRows;
    if (this.#closed || rowsAfterNext <= this.layout.capacity || rowsAfterNext > this.layout.maxRows) return;
    this.layout.extend(rowsAfterNext, this.#expectedAfter(rowsAfterNext));
    this.#allocateAhead();
  }

  /**
   * Most rows whose bytes fit one transport chunk, at the worst case: each column's words, plus, per
   * column, a validity bit a row and two partial words at the piece's edges (bit-packed values too).
   */
  #rowsPerPiece(): number {
    const edgeBytes = this.#sinks.length * 16;
    const perRow = this.#sinks.reduce((n, s) => n + columnBytes(s.plan, 32) / 32 + 1 / 8, 0);
    return Math.max(1, Math.floor((this.#transport.maxChunkBytes - edgeBytes) / perRow));
  }

  /**
   * The columns as uploaded, holding their first `rows` rows (default: every row appended); their
   * buffers hold those rows once the transport has flushed them.
   */
  columns(rows = this.rows): UploadedColumn[] {
    return this.#sinks.map((s) => ({
      plan: s.plan,
      values: s.hasValues ? s.values.buffers(rows) : [],
      validity: s.validity?.buffers(rows) ?? null,
      nullCount: s.nullCount,
      extras: s.encoder?.describe() ?? {},
      // A run-end encoded column's dictionary is its values' encoder's.
      encoder: s.encoder instanceof RunEndEncoder ? s.encoder.inner : s.encoder,
    }));
  }

  /**
   * Makes the first chunk of every column before any batch, for `rows` rows (a hint of the table's
   * size, within one chunk), so that the first batch finds its buffers made (the device's answer for
   * them is the watch's).
   */
  async prepare(rows: number): Promise<void> {
    if (rows <= 0 || this.layout.capacity > 0 || this.#sinks.length === 0) return;
    // A hint past the cap is not an error yet: the rows that come may be fewer than it says.
    this.layout.extend(Math.min(rows, this.layout.maxChunkRows, this.layout.maxRows), rows);
    this.#allocateAhead();
    await this.#made;
  }

  /**
   * Makes the first chunk of every column for the first batch's `rows` alone (its header gives them),
   * in the background, while that batch's body is still arriving: its rows land without waiting for
   * buffers to be made, and the GPU does not clear a buffer sized for the whole table before the first
   * copy (a copy that covers its whole buffer needs no clear). No-op once a chunk exists.
   */
  prepareFirstBatch(rows: number): void {
    if (rows <= 0 || this.layout.capacity > 0 || this.#sinks.length === 0) return;
    const first = Math.min(rows, this.layout.maxChunkRows, this.layout.maxRows);
    this.layout.extend(first, first);
    this.#allocateAhead();
  }

  /**
   * Makes the chunks for the rows `expectedRows` foresees, in the background (while the next batches
   * download) rather than when the next batch waits for them; only when the estimate is well past what
   * is made, so that a table that is all there gets no chunk for a margin. Called once the first batch
   * is on the GPU: making a buffer can take the GPU's time (a software GPU zeroes its memory).
   */
  reserveAhead(): void {
    if (this.#closed) return;
    const capacity = this.layout.capacity;
    const expected = Math.min(this.#expectedAfter(this.rows), this.layout.maxRows);
    if (capacity === 0 || expected < capacity * AHEAD_MIN_GROWTH) return;
    this.layout.extend(expected, expected);
    this.#allocateAhead();
  }

  /** Destroys the buffers of chunks that hold no row (made ahead for rows that never came). */
  async releaseUnused(): Promise<void> {
    this.#closed = true;
    await this.#made;
    if (this.layout.truncate(this.rows) === 0) return;
    for (const sink of this.#sinks) sink.dropTruncated();
  }

  /** Destroys every buffer this uploader made; resolves once those still being made are gone too. */
  async destroy(): Promise<void> {
    this.#closed = true;
    for (const sink of this.#sinks) sink.destroy();
    await this.#made.catch(() => {});
    for (const sink of this.#sinks) sink.destroy();
  }

  /**
   * Makes the layout's new chunks, a task step later (after the caller's own changes to the layout); a
   * chunk over the limits is thrown by the next `append`, a refusal of the device reported by the watch.
   */
  #allocateAhead(): void {
    this.#made = this.#made.then(() => {
      const made = this.#makeChunks();
      if (this.#options.awaitCreation) return made.created;
      this.#unanswered.push(made);
    });
    this.#made.catch(() => {}); // thrown by the next reserve
  }

  /** Makes, now, the buffers of the layout's chunks that have none; a chunk over the limits throws at once. */
  #makeChunks(): MadeChunks {
    const firstRow = this.#madeRows;
    const created = this.#allocate();
    created.catch(() => {}); // awaited here, or reported by the watch
    this.#madeRows = this.layout.capacity;
    return { firstRow, created };
  }

  /**
   * Makes, now, the buffers of the layout's new chunks, every column's; resolves once the device has made
   * them all. A chunk over the limits throws at once.
   */
  #allocate(): Promise<void> {
    return settleAll(allocations(this.#sinks));
  }

  /** Makes the chunks `rowsAfter` rows need, and validity buffers for columns whose first null came. */
  async #reserve(columns: ColumnSlice[], rowsAfter: number): Promise<void> {
    await this.#made;
    const firstNulls = this.#sinks.filter(
      (s, i) => s.validity === null && (columns[i] as ColumnSlice).nullCount > 0,
    );
    if (rowsAfter > this.layout.capacity) {
      for (const sink of this.#sinks) sink.checkTotal(rowsAfter);
      const expected = this.#expectedAfter(rowsAfter);
      // A new buffer is cleared before its first write: a first chunk of the whole expected size would
      // delay the first batch by that clear. Unknown, the size starts at twice the first batch.
      const quick = this.layout.capacity === 0 && (this.#options.quickFirstChunk || expected === 0);
      const target = quick ? Math.min(expected || Number.POSITIVE_INFINITY, rowsAfter * 2) : expected;
      this.layout.extend(rowsAfter, target);
      const made = this.#makeChunks();
      if (this.#options.awaitCreation) await made.created;
      else this.#unanswered.push(made);
    }
    this.#followWritten(rowsAfter);
    for (const sink of firstNulls) await this.#startValidity(sink);
  }

  /** The rows to size buffers for; 0 when unknown. */
  #expectedAfter(rowsAfter: number): number {
    return this.#options.expectedRows?.(rowsAfter) ?? 0;
  }

  /**
   * Hands the watch the device's answers for the chunks that rows below `rowsAfter` are about to be
   * written into. Those rows are written at once, before the answer: a round trip to the GPU less for a
   * batch that needs a new chunk (a live stream's first batch waited 1–2 ms for the chunks made at its
   * header). A refusal fails the load before any of them is published, since rows land once the watch
   * settles.
   */
  #followWritten(rowsAfter: number): void {
    const due = this.#unanswered.filter((made) => made.firstRow < rowsAfter);
    if (due.length === 0) return;
    this.#unanswered = this.#unanswered.filter((made) => made.firstRow >= rowsAfter);
    for (const made of due) this.#watch.track(made.created);
  }

  /** A column's first null: earlier rows were all valid, so its bitmap starts as ones up to here. */
  async #startValidity(sink: ColumnSink): Promise<void> {
    const validity = sink.startValidity();
    const created = validity.allocate();
    created.catch(() => {}); // awaited here, or reported by the watch
    if (this.#options.awaitCreation) await created;
    else this.#watch.track(created);
    if (this.rows === 0) return;
    const words = new Uint32Array(sink.packer.wordsFor(this.rows));
    sink.packer.append(null, 0, this.rows, words);
    // Direct writes: the buffers are new, so no staged copy to them can be pending.
    this.#watch.run(
      `writing validity of column ${JSON.stringify(sink.plan.name)}`,
      { column: sink.plan.name },
      () => {
        for (const chunk of this.layout.chunks) {
          if (chunk.rowOffset >= this.rows) break;
          const first = chunk.rowOffset / 32;
          const part = words.subarray(first, first + validityWordCount(chunk.capacity));
          this.#device.queue.writeBuffer(validity.target(chunk.rowOffset).buffer, 0, part);
        }
      },
    );
  }

  async #appendPiece(columns: ColumnSlice[], first: number, count: number): Promise<void> {
    const bytes = this.#sinks.reduce((n, s) => n + s.bytesFor(count), 0);
    await this.#transport.begin(bytes);
    const started = performance.now();
    const row = this.rows + first;
    const writeAll = () => {
      for (const [i, sink] of this.#sinks.entries()) {
        const slice = columns[i] as ColumnSlice;
        sink.writeValues(this.#transport, slice, row, first, count);
        if (sink.validity) sink.writeValidity(this.#transport, slice, row, first, count);
        if (first === 0) sink.nullCount += slice.nullCount;
      }
    };
    // One error scope for the piece's writes when they call the device (`writeBuffer`); staged writes
    // only fill memory, and their copies are scoped when submitted.
    if (this.#transport.writesGpu) this.#watch.run('writing column values', {}, writeAll);
    else writeAll();
    this.bytesUploaded += bytes;
    this.encodeMs += performance.now() - started;
  }
}

/** Each sink's new buffers, made as its answer is taken. */
function* allocations(sinks: readonly ColumnSink[]): Generator<Promise<void>> {
  for (const sink of sinks) yield sink.allocate();
}

/** Buffers made for the layout's chunks from `firstRow` on, and the device's answer for them. */
interface MadeChunks {
  firstRow: number;
  created: Promise<void>;
}

/** `reserveAhead` makes chunks only for an estimate at least this many times the rows made room for. */
const AHEAD_MIN_GROWTH = 1.25;

/**
 * The most rows a column of this table may hold under the loader's `maxBufferBytes`; unbounded under
 * the device's own limit, which caps each buffer, not a column.
 */
function maxRowsFor(plans: readonly ColumnPlan[], tracker: BufferTracker): number {
  const limit = tracker.columnLimit;
  if (limit === tracker.deviceLimit) return Number.POSITIVE_INFINITY;
  // Validity words (a bit a row) never bind first: a column with values takes at least as many bytes.
  return Math.min(...plans.map((p) => rowsWithin(limit.bytes, (rows) => columnBytes(p, rows))));
}

/** Largest multiple of 32 rows whose bytes fit one buffer in every column. */
function chunkRowsFor(
  plans: readonly ColumnPlan[],
  limits: GPUSupportedLimits,
  chunkBytes = Infinity,
): number {
  const limit = Math.min(chunkBytes, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const widest = Math.max(0, ...plans.map((p) => columnBytes(p, 32) / 32));
  if (widest === 0) return 2 ** 31;
  return Math.max(32, Math.floor(limit / widest / 32) * 32);
}
