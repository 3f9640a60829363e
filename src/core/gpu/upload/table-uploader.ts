import type { RecordBatch } from 'apache-arrow';
import { columnBytes } from '../../columns/column-bytes.js';
import { type ColumnSlice, columnSlice } from '../../columns/column-data.js';
import type { ColumnEncoder, ColumnExtras } from '../../columns/encoders/column-encoder.js';
import { createEncoder, type EncoderOptions } from '../../columns/encoders/create-encoder.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { ValidityPacker } from '../../columns/validity-packer.js';
import { validityWordCount } from '../../columns/words.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { GpuErrorWatch } from '../error-scope.js';
import { GrowableBuffer } from '../growable-buffer.js';
import type { UploadTransport } from './transport.js';

/** One column as uploaded: its values buffer and, when it had nulls, its validity words. */
export interface UploadedColumn {
  plan: ColumnPlan;
  /** `null` when the table has no rows (or the encoding has no words). */
  values: GPUBuffer | null;
  validity: GPUBuffer | null;
  nullCount: number;
  /** What the encoding adds: a relative encoding's offset, a dictionary's size. */
  extras: ColumnExtras & { dictionarySize?: number };
  /** The encoder, for what it keeps (a dictionary's values). */
  encoder: ColumnEncoder | null;
}

class ColumnSink {
  readonly values: GrowableBuffer;
  validity: GrowableBuffer | null = null;
  readonly packer = new ValidityPacker();
  encoder: ColumnEncoder | null = null;
  nullCount = 0;

  constructor(
    readonly plan: ColumnPlan,
    device: GPUDevice,
    tracker: BufferTracker,
    watch: GpuErrorWatch,
  ) {
    this.values = new GrowableBuffer(device, tracker, watch, `column ${JSON.stringify(plan.name)}`, {
      column: plan.name,
      arrowType: plan.arrowType,
    });
  }
}

/**
 * Appends decoded batches to per-column GPU buffers through an `UploadTransport`. Batches larger than
 * the transport's chunk are split by rows; buffers grow ahead of the rows using `expectedRows`.
 */
export class TableUploader {
  readonly #device: GPUDevice;
  readonly #tracker: BufferTracker;
  readonly #transport: UploadTransport;
  readonly #watch: GpuErrorWatch;
  readonly #sinks: ColumnSink[];
  readonly #expectedRows: (rowsAfterBatch: number) => number;
  readonly #encoderOptions: EncoderOptions;
  /** Rows appended so far. */
  rows = 0;
  /** Bytes handed to the transport so far. */
  bytesUploaded = 0;
  /** Milliseconds spent encoding values into transport memory. */
  encodeMs = 0;

  constructor(
    device: GPUDevice,
    tracker: BufferTracker,
    transport: UploadTransport,
    watch: GpuErrorWatch,
    plans: readonly ColumnPlan[],
    expectedRows: (rowsAfterBatch: number) => number,
    encoderOptions: EncoderOptions = {},
  ) {
    this.#encoderOptions = encoderOptions;
    this.#device = device;
    this.#tracker = tracker;
    this.#transport = transport;
    this.#watch = watch;
    this.#expectedRows = expectedRows;
    this.#sinks = plans.map((plan) => new ColumnSink(plan, device, tracker, watch));
  }

  /** GPU bytes one row of this table takes, validity words included. */
  get bytesPerRow(): number {
    return this.#sinks.reduce((n, s) => n + columnBytes(s.plan, 1) + (s.validity ? 1 / 8 : 0), 0);
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
      sink.encoder ??= createEncoder(sink.plan, slice.data.type, this.#encoderOptions);
      return slice;
    });
    await this.#reserve(columns, this.rows + count);
    const rowsPerChunk = this.#rowsPerChunk();
    for (let first = 0; first < count; first += rowsPerChunk) {
      await this.#appendChunk(columns, first, Math.min(rowsPerChunk, count - first));
    }
    this.rows += count;
  }

  /**
   * Most rows whose bytes fit one transport chunk, at the worst case: each column's words, plus, per
   * column, a validity bit a row and two partial words at the chunk's edges (bit-packed values too).
   */
  #rowsPerChunk(): number {
    const edgeBytes = this.#sinks.length * 16;
    const perRow = this.#sinks.reduce((n, s) => n + columnBytes(s.plan, 1) + 1 / 8, 0);
    return Math.max(1, Math.floor((this.#transport.maxChunkBytes - edgeBytes) / Math.max(perRow, 1 / 8)));
  }

  /** The uploaded columns; valid once the transport has finished. */
  columns(): UploadedColumn[] {
    return this.#sinks.map((s) => ({
      plan: s.plan,
      values: s.values.current,
      validity: s.validity?.current ?? null,
      nullCount: s.nullCount,
      extras: s.encoder?.describe() ?? {},
      encoder: s.encoder,
    }));
  }

  /** Destroys every buffer this uploader made. */
  destroy(): void {
    for (const sink of this.#sinks) {
      sink.values.destroy();
      sink.validity?.destroy();
    }
  }

  async #reserve(columns: ColumnSlice[], rowsAfter: number): Promise<void> {
    const needsGrowth = this.#sinks.some(
      (s, i) =>
        columnBytes(s.plan, rowsAfter) > s.values.capacity ||
        ((s.validity !== null || (columns[i] as ColumnSlice).nullCount > 0) &&
          validityWordCount(rowsAfter) * 4 > (s.validity?.capacity ?? 0)),
    );
    if (!needsGrowth) return;
    // Writes already staged for the old buffers must reach the queue before the copy that grows them.
    this.#transport.flush();
    // The estimate (from Content-Length) gets a margin: growing again past it would copy everything.
    const estimate = this.#expectedRows(rowsAfter);
    const expected = estimate > 0 ? Math.ceil(estimate * 1.02) + (rowsAfter - this.rows) : 0;
    for (const [i, sink] of this.#sinks.entries()) {
      // WebGPU zero-fills a buffer before its first use, so a first buffer of the whole expected size would
      // delay the first batch by that clear; start small and jump to the expected size on the next growth.
      const preferred = sink.values.capacity === 0 ? Math.min(expected || Infinity, rowsAfter * 2) : expected;
      const bytes = columnBytes(sink.plan, rowsAfter);
      if (bytes > 0) {
        await sink.values.reserve(
          bytes,
          columnBytes(sink.plan, this.rows),
          columnBytes(sink.plan, preferred),
        );
      }
      const validityBytes = validityWordCount(rowsAfter) * 4;
      if (sink.validity === null && (columns[i] as ColumnSlice).nullCount > 0) {
        await this.#startValidity(sink, validityBytes, validityWordCount(expected) * 4);
      } else {
        await sink.validity?.reserve(
          validityBytes,
          validityWordCount(this.rows) * 4,
          validityWordCount(expected) * 4,
        );
      }
    }
  }

  /** A column's first null: earlier rows were all valid, so its bitmap starts as ones up to here. */
  async #startValidity(sink: ColumnSink, bytes: number, preferredBytes: number): Promise<void> {
    const label = `validity of column ${JSON.stringify(sink.plan.name)}`;
    sink.validity = new GrowableBuffer(this.#device, this.#tracker, this.#watch, label, {
      column: sink.plan.name,
      arrowType: sink.plan.arrowType,
    });
    await sink.validity.reserve(bytes, 0, preferredBytes);
    if (this.rows === 0) return;
    const words = new Uint32Array(sink.packer.wordsFor(this.rows));
    sink.packer.append(null, 0, this.rows, words);
    // Direct write: the buffer is new, so no staged copy to it can be pending.
    const buffer = sink.validity.buffer;
    this.#watch.run(`writing ${label}`, { column: sink.plan.name }, () =>
      this.#device.queue.writeBuffer(buffer, 0, words),
    );
  }

  async #appendChunk(columns: ColumnSlice[], first: number, count: number): Promise<void> {
    const chunkBytes = this.#sinks.reduce(
      (n, s) =>
        n +
        (s.encoder as ColumnEncoder).wordsFor(count) * 4 +
        (s.validity ? s.packer.wordsFor(count) * 4 : 0),
      0,
    );
    await this.#transport.begin(chunkBytes);
    const started = performance.now();
    // One error scope for the chunk's writes (`writeBuffer` calls them at once; staging fills memory).
    this.#watch.run('writing column values', {}, () => this.#writeChunk(columns, first, count));
    this.bytesUploaded += chunkBytes;
    this.encodeMs += performance.now() - started;
  }

  #writeChunk(columns: ColumnSlice[], first: number, count: number): void {
    for (const [i, sink] of this.#sinks.entries()) {
      const slice = columns[i] as ColumnSlice;
      this.#writeValues(sink, slice, first, count);
      if (sink.validity) this.#appendValidity(sink, slice, first, count);
      if (first === 0) sink.nullCount += slice.nullCount;
    }
  }

  /** Values go straight from the Arrow buffer when they need no conversion, else through the encoder. */
  #writeValues(sink: ColumnSink, { data }: ColumnSlice, first: number, count: number): void {
    const encoder = sink.encoder as ColumnEncoder;
    const words = encoder.wordsFor(count);
    if (words === 0) return;
    const dstOffset = encoder.nextWord * 4;
    const raw = encoder.rawBytes(data, first, count);
    if (raw) {
      this.#transport.writeBytes(sink.values.buffer, dstOffset, raw);
      encoder.skip(count);
      return;
    }
    this.#transport.write(sink.values.buffer, dstOffset, words * 4, (target, offset) =>
      encoder.encode(data, first, count, new Uint32Array(target, offset, words)),
    );
  }

  #appendValidity(sink: ColumnSink, slice: ColumnSlice, first: number, count: number): void {
    const validity = sink.validity as GrowableBuffer;
    const words = sink.packer.wordsFor(count);
    const bitmap = slice.nullCount > 0 ? slice.bitmap : null;
    this.#transport.write(validity.buffer, sink.packer.nextWord * 4, words * 4, (target, offset) => {
      sink.packer.append(bitmap, slice.bitOffset + first, count, new Uint32Array(target, offset, words));
    });
  }
}
