import { columnBytes } from '../../columns/column-bytes.js';
import type { ColumnSlice } from '../../columns/column-data.js';
import type { ColumnEncoder } from '../../columns/encoders/column-encoder.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import { ValidityPacker } from '../../columns/validity-packer.js';
import { validityWordCount } from '../../columns/words.js';
import type { BufferTracker } from '../buffer-tracker.js';
import type { ChunkLayout } from '../chunk-layout.js';
import { ChunkedBuffer } from '../chunked-buffer.js';
import { settleAll } from '../settle-all.js';
import type { UploadTransport } from './transport.js';

/** Bytes of `rows` validity bits, in whole words. */
const validityBytes = (rows: number) => validityWordCount(rows) * 4;

/** One column being uploaded: its chunked values and validity, its encoder and its null count. */
export class ColumnSink {
  readonly values: ChunkedBuffer;
  validity: ChunkedBuffer | null = null;
  readonly packer = new ValidityPacker();
  encoder: ColumnEncoder | null = null;
  nullCount = 0;
  /** Milliseconds spent in this column's encoder (the `dictionaryMs` stage for dictionary columns). */
  encodeMs = 0;
  readonly #makeValidity: () => ChunkedBuffer;

  /** The column's buffers follow `layout`, the chunks of its table. */
  constructor(
    readonly plan: ColumnPlan,
    tracker: BufferTracker,
    layout: ChunkLayout,
  ) {
    const details = { column: plan.name, arrowType: plan.arrowType };
    const label = `column ${JSON.stringify(plan.name)}`;
    this.values = new ChunkedBuffer(tracker, layout, label, details, (rows) => columnBytes(plan, rows));
    this.#makeValidity = () =>
      new ChunkedBuffer(tracker, layout, `validity of ${label}`, details, validityBytes);
  }

  /** Whether the column has words at all (`null` columns have none). */
  get hasValues(): boolean {
    return columnBytes(this.plan, 1) > 0;
  }

  /** Makes the validity buffers at the column's first null; the caller writes the earlier rows as valid. */
  startValidity(): ChunkedBuffer {
    this.validity ??= this.#makeValidity();
    return this.validity;
  }

  /**
   * Makes, now, the buffers of the layout's new chunks (values, and validity once it has nulls); resolves
   * once the device has made them (see `ChunkedBuffer.allocate`).
   */
  allocate(): Promise<void> {
    return settleAll(this.#allocations());
  }

  *#allocations(): Generator<Promise<void>> {
    if (this.hasValues) yield this.values.allocate();
    if (this.validity) yield this.validity.allocate();
  }

  /** Fails with `LIMIT_EXCEEDED` when `rows` rows of this column would pass the loader's `maxBufferBytes`. */
  checkTotal(rows: number): void {
    if (this.hasValues) this.values.checkTotal(rows);
    this.validity?.checkTotal(rows);
  }

  /** Destroys the buffers of chunks the layout dropped. */
  dropTruncated(): void {
    this.values.dropTruncated();
    this.validity?.dropTruncated();
  }

  /** Writes the values of rows `[first, first + count)` of `slice`, which lie in one chunk, at table row `row`. */
  writeValues(
    transport: UploadTransport,
    slice: ColumnSlice,
    row: number,
    first: number,
    count: number,
  ): void {
    const encoder = this.encoder as ColumnEncoder;
    const words = encoder.wordsFor(count);
    if (words === 0) return;
    const { buffer, rowBase } = this.values.target(row);
    const dstOffset = encoder.nextWord * 4 - columnBytes(this.plan, rowBase);
    if (slice.sourceWords) {
      this.#writeFromSource(transport, slice.sourceWords.position, buffer, dstOffset, first, count);
      return;
    }
    const raw = slice.words
      ? slice.words.subarray(first * encoder.wordsFor(1) * 4, (first + count) * encoder.wordsFor(1) * 4)
      : encoder.rawBytes(slice.data, first, count);
    if (raw) {
      transport.writeBytes(buffer, dstOffset, raw);
      encoder.advance(count);
      return;
    }
    transport.write(buffer, dstOffset, words * 4, (target, offset) => {
      const started = performance.now();
      encoder.encode(slice.data, first, count, new Uint32Array(target, offset, words));
      this.encodeMs += performance.now() - started;
    });
  }

  /** Queues rows `[first, first + count)` of words that lie in the source from `position`. */
  #writeFromSource(
    transport: UploadTransport,
    position: number,
    buffer: GPUBuffer,
    dstOffset: number,
    first: number,
    count: number,
  ): void {
    const encoder = this.encoder as ColumnEncoder;
    if (!transport.writeFromSource) {
      // Never reached: a load asks for words left in the source only with a transport that reads them.
      throw new Error(`column ${JSON.stringify(this.plan.name)}: words left in the source, no reader`);
    }
    const rowBytes = encoder.wordsFor(1) * 4;
    transport.writeFromSource(buffer, dstOffset, position + first * rowBytes, count * rowBytes);
    encoder.advance(count);
  }

  /** Appends the validity bits of the same rows. */
  writeValidity(
    transport: UploadTransport,
    slice: ColumnSlice,
    row: number,
    first: number,
    count: number,
  ): void {
    const { buffer, rowBase } = (this.validity as ChunkedBuffer).target(row);
    const words = this.packer.wordsFor(count);
    const bitmap = slice.nullCount > 0 ? slice.bitmap : null;
    const dstOffset = this.packer.nextWord * 4 - validityBytes(rowBase);
    transport.write(buffer, dstOffset, words * 4, (target, offset) => {
      this.packer.append(bitmap, slice.bitOffset + first, count, new Uint32Array(target, offset, words));
    });
  }

  /** Words the next `count` rows take in transport memory, validity included. */
  bytesFor(count: number): number {
    const values = (this.encoder as ColumnEncoder).wordsFor(count) * 4;
    return values + (this.validity ? this.packer.wordsFor(count) * 4 : 0);
  }

  /** Destroys every buffer of the column. */
  destroy(): void {
    this.values.destroy();
    this.validity?.destroy();
  }
}
