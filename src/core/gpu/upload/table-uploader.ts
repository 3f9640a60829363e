import type { RecordBatch } from 'apache-arrow';
import { columnBytes } from '../../columns/column-bytes.js';
import { type ColumnSlice, columnSlice } from '../../columns/column-data.js';
import type { ColumnEncoder, ColumnExtras } from '../../columns/encoders/column-encoder.js';
import { createEncoder, type EncoderOptions } from '../../columns/encoders/create-encoder.js';
import { RunEndEncoder } from '../../columns/encoders/run-end-encoders.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { validityWordCount } from '../../columns/words.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { ChunkedBuffer, ColumnChunk } from '../chunked-buffer.js';
import type { GpuErrorWatch } from '../error-scope.js';
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
  /** Expected rows once a batch ending at `rowsAfterBatch` is in (from Content-Length or a hint); 0: unknown. */
  expectedRows?: (rowsAfterBatch: number) => number;
  /** Largest chunk of one column, in bytes (default: what the device can bind and allocate). */
  chunkBytes?: number;
}

/**
 * Appends decoded batches to per-column GPU buffers through an `UploadTransport`. Batches larger than
 * the transport's chunk are split by rows, and so are writes that would cross a column chunk; buffers
 * grow ahead of the rows using `expectedRows`.
 */
export class TableUploader {
  readonly #device: GPUDevice;
  readonly #transport: UploadTransport;
  readonly #watch: GpuErrorWatch;
  readonly #sinks: ColumnSink[];
  readonly #options: UploaderOptions;
  /** Rows of every column chunk but the last: a multiple of 32, so validity words never straddle chunks. */
  readonly chunkRows: number;
  /** Rows appended so far. */
  rows = 0;
  /** Bytes handed to the transport so far. */
  bytesUploaded = 0;
  /** Milliseconds spent encoding values into transport memory. */
  encodeMs = 0;

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
    this.chunkRows = chunkRowsFor(plans, device.limits, options.chunkBytes);
    this.#sinks = plans.map((plan) => new ColumnSink(plan, device, tracker, watch, this.chunkRows));
  }

  /** GPU bytes one row of this table takes, validity words included. */
  get bytesPerRow(): number {
    return this.#sinks.reduce((n, s) => n + columnBytes(s.plan, 32) / 32 + (s.validity ? 1 / 8 : 0), 0);
  }

  /** Appends every row of `batch`. */
  async append(batch: RecordBatch): Promise<void> {
    this.#watch.throwIfFailed();
    const count = batch.numRows;
    if (count === 0 || this.#sinks.length === 0) {
      this.rows += count;
      return;
    }
    const columns = this.#sinks.map((sink) => {
      const slice = columnSlice(batch, sink.plan);
      sink.encoder ??= createEncoder(sink.plan, slice.data.type, this.#options);
      return slice;
    });
    await this.#reserve(columns, this.rows + count);
    const rowsPerPiece = this.#rowsPerPiece();
    for (let first = 0; first < count; ) {
      const row = this.rows + first;
      const toChunkEnd = this.chunkRows - (row % this.chunkRows);
      const piece = Math.min(rowsPerPiece, count - first, toChunkEnd);
      await this.#appendPiece(columns, first, piece);
      first += piece;
    }
    this.rows += count;
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

  /** The uploaded columns; valid once the transport has finished. */
  columns(): UploadedColumn[] {
    return this.#sinks.map((s) => ({
      plan: s.plan,
      values: s.hasValues ? s.values.buffers(this.rows) : [],
      validity: s.validity?.buffers(this.rows) ?? null,
      nullCount: s.nullCount,
      extras: s.encoder?.describe() ?? {},
      // A run-end encoded column's dictionary is its values' encoder's.
      encoder: s.encoder instanceof RunEndEncoder ? s.encoder.inner : s.encoder,
    }));
  }

  /** Destroys every buffer this uploader made. */
  destroy(): void {
    for (const sink of this.#sinks) sink.destroy();
  }

  async #reserve(columns: ColumnSlice[], rowsAfter: number): Promise<void> {
    const grows = (buffer: ChunkedBuffer | null) =>
      buffer !== null && buffer.bytesOf(rowsAfter) > buffer.capacity;
    const needsGrowth = this.#sinks.some(
      (s, i) =>
        (s.hasValues && grows(s.values)) ||
        grows(s.validity) ||
        (s.validity === null && (columns[i] as ColumnSlice).nullCount > 0),
    );
    if (!needsGrowth) return;
    // Writes already staged for the old buffers must reach the queue before the copy that grows them.
    this.#transport.flush();
    const expected = this.#expectedAfter(rowsAfter);
    for (const [i, sink] of this.#sinks.entries()) {
      // WebGPU zero-fills a buffer before its first use, so a first buffer of the whole expected size would
      // delay the first batch by that clear; start small and jump to the expected size on the next growth.
      const first = sink.values.capacity === 0;
      const preferred = first ? Math.min(expected || Infinity, rowsAfter * 2) : expected;
      if (sink.hasValues) await sink.values.reserve(rowsAfter, this.rows, preferred);
      if (sink.validity === null && (columns[i] as ColumnSlice).nullCount > 0) {
        await this.#startValidity(sink, rowsAfter, expected);
      } else await sink.validity?.reserve(rowsAfter, this.rows, expected);
    }
  }

  /** The rows to size buffers for: the estimate with a margin (growing again past it would copy all). */
  #expectedAfter(rowsAfter: number): number {
    const estimate = this.#options.expectedRows?.(rowsAfter) ?? 0;
    return estimate > 0 ? Math.ceil(estimate * 1.02) + (rowsAfter - this.rows) : 0;
  }

  /** A column's first null: earlier rows were all valid, so its bitmap starts as ones up to here. */
  async #startValidity(sink: ColumnSink, rowsAfter: number, expected: number): Promise<void> {
    const validity = sink.startValidity();
    await validity.reserve(rowsAfter, 0, expected);
    if (this.rows === 0) return;
    const words = new Uint32Array(sink.packer.wordsFor(this.rows));
    sink.packer.append(null, 0, this.rows, words);
    const wordsPerChunk = validityWordCount(this.chunkRows);
    // Direct writes: the buffers are new, so no staged copy to them can be pending.
    this.#watch.run(
      `writing validity of column ${JSON.stringify(sink.plan.name)}`,
      { column: sink.plan.name },
      () => {
        for (let word = 0; word < words.length; word += wordsPerChunk) {
          const { buffer } = validity.target((word / wordsPerChunk) * this.chunkRows);
          this.#device.queue.writeBuffer(buffer, 0, words.subarray(word, word + wordsPerChunk));
        }
      },
    );
  }

  async #appendPiece(columns: ColumnSlice[], first: number, count: number): Promise<void> {
    const bytes = this.#sinks.reduce((n, s) => n + s.bytesFor(count), 0);
    await this.#transport.begin(bytes);
    const started = performance.now();
    const row = this.rows + first;
    // One error scope for the piece's writes (`writeBuffer` calls them at once; staging fills memory).
    this.#watch.run('writing column values', {}, () => {
      for (const [i, sink] of this.#sinks.entries()) {
        const slice = columns[i] as ColumnSlice;
        sink.writeValues(this.#transport, slice, row, first, count);
        if (sink.validity) sink.writeValidity(this.#transport, slice, row, first, count);
        if (first === 0) sink.nullCount += slice.nullCount;
      }
    });
    this.bytesUploaded += bytes;
    this.encodeMs += performance.now() - started;
  }
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
