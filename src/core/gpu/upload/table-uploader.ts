import type { Data, RecordBatch } from 'apache-arrow';
import { encodeValues, type SourceValues, sourceBytes } from '../../columns/encode-values.js';
import { type ColumnPlan, GPU_BYTES_PER_VALUE, validityWordCount } from '../../columns/type-plan.js';
import { ValidityPacker } from '../../columns/validity-packer.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { GpuErrorWatch } from '../error-scope.js';
import { GrowableBuffer } from '../growable-buffer.js';
import type { UploadTransport } from './transport.js';

/** One column as uploaded: its values buffer and, when it had nulls, its validity words. */
export interface UploadedColumn {
  plan: ColumnPlan;
  /** `null` when the table has no rows. */
  values: GPUBuffer | null;
  validity: GPUBuffer | null;
  nullCount: number;
}

class ColumnSink {
  readonly values: GrowableBuffer;
  validity: GrowableBuffer | null = null;
  readonly packer = new ValidityPacker();
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
  ) {
    this.#device = device;
    this.#tracker = tracker;
    this.#transport = transport;
    this.#watch = watch;
    this.#expectedRows = expectedRows;
    this.#sinks = plans.map((plan) => new ColumnSink(plan, device, tracker, watch));
  }

  /** GPU bytes one row of this table takes, validity words included. */
  get bytesPerRow(): number {
    return this.#sinks.length * GPU_BYTES_PER_VALUE + this.#sinks.filter((s) => s.validity).length / 8;
  }

  /** Appends every row of `batch`. */
  async append(batch: RecordBatch): Promise<void> {
    this.#watch.throwIfFailed();
    const count = batch.numRows;
    if (count === 0 || this.#sinks.length === 0) {
      this.rows += count;
      return;
    }
    const columns = this.#sinks.map((sink) => batch.getChildAt(sink.plan.fieldIndex)?.data[0] as Data);
    await this.#reserve(columns, this.rows + count);
    const rowsPerChunk = this.#rowsPerChunk();
    for (let first = 0; first < count; first += rowsPerChunk) {
      await this.#appendChunk(columns, first, Math.min(rowsPerChunk, count - first));
    }
    this.rows += count;
  }

  /**
   * Most rows whose bytes fit one transport chunk, at the worst case: 4 bytes a row per column, plus, per
   * column, a validity bit a row and two partial words at the chunk's edges.
   */
  #rowsPerChunk(): number {
    const columns = this.#sinks.length;
    const edgeBytes = columns * 8;
    return Math.max(
      1,
      Math.floor((this.#transport.maxChunkBytes - edgeBytes) / (columns * (GPU_BYTES_PER_VALUE + 1 / 8))),
    );
  }

  /** The uploaded columns; valid once the transport has finished. */
  columns(): UploadedColumn[] {
    return this.#sinks.map((s) => ({
      plan: s.plan,
      values: s.values.current,
      validity: s.validity?.current ?? null,
      nullCount: s.nullCount,
    }));
  }

  /** Destroys every buffer this uploader made. */
  destroy(): void {
    for (const sink of this.#sinks) {
      sink.values.destroy();
      sink.validity?.destroy();
    }
  }

  async #reserve(columns: Data[], rowsAfter: number): Promise<void> {
    const needsGrowth = this.#sinks.some(
      (s, i) =>
        rowsAfter * GPU_BYTES_PER_VALUE > s.values.capacity ||
        ((s.validity !== null || (columns[i] as Data).nullCount > 0) &&
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
      await sink.values.reserve(rowsAfter * 4, this.rows * 4, preferred * 4);
      const validityBytes = validityWordCount(rowsAfter) * 4;
      if (sink.validity === null && (columns[i] as Data).nullCount > 0) {
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

  async #appendChunk(columns: Data[], first: number, count: number): Promise<void> {
    const validityBytes = this.#sinks.reduce(
      (n, s) => n + (s.validity ? s.packer.wordsFor(count) * 4 : 0),
      0,
    );
    const chunkBytes = this.#sinks.length * count * GPU_BYTES_PER_VALUE + validityBytes;
    await this.#transport.begin(chunkBytes);
    const started = performance.now();
    // One error scope for the chunk's writes (`writeBuffer` calls them at once; staging fills memory).
    this.#watch.run('writing column values', {}, () => this.#writeChunk(columns, first, count));
    this.bytesUploaded += chunkBytes;
    this.encodeMs += performance.now() - started;
  }

  #writeChunk(columns: Data[], first: number, count: number): void {
    const dstOffset = (this.rows + first) * GPU_BYTES_PER_VALUE;
    for (const [i, sink] of this.#sinks.entries()) {
      const data = columns[i] as Data;
      const values = data.values as SourceValues;
      // apache-arrow's `values` begin at the column's first row (a slice cuts them); its `offset` counts
      // only in the validity bitmap, which slices share.
      const conversion = sink.plan.conversion;
      if (conversion === 'copy') {
        this.#transport.writeBytes(sink.values.buffer, dstOffset, sourceBytes(values, first, count));
      } else {
        this.#transport.write(sink.values.buffer, dstOffset, count * 4, (target, offset) =>
          encodeValues(conversion, values, first, count, target, offset),
        );
      }
      if (sink.validity) this.#appendValidity(sink, data, data.offset + first, count);
      if (first === 0) sink.nullCount += data.nullCount;
    }
  }

  #appendValidity(sink: ColumnSink, data: Data, start: number, count: number): void {
    const validity = sink.validity as GrowableBuffer;
    const words = sink.packer.wordsFor(count);
    const bitmap = data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : null;
    this.#transport.write(validity.buffer, sink.packer.nextWord * 4, words * 4, (target, offset) => {
      sink.packer.append(bitmap, start, count, new Uint32Array(target, offset, words));
    });
  }
}
