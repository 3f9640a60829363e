import { type ErrorDetails, formatBytes, LimitError } from '../errors.js';
import type { BufferTracker } from './buffer-tracker.js';
import type { ChunkLayout } from './chunk-layout.js';
import { settleAll } from './settle-all.js';

/** Usage of every column buffer: bindable as storage or vertex data, copyable both ways. */
export const COLUMN_USAGE = (): GPUBufferUsageFlags =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** Rows `[rowOffset, rowOffset + rows)` of a column, held by one GPU buffer of `byteLength` bytes. */
export interface ColumnChunk {
  rowOffset: number;
  rows: number;
  byteLength: number;
}

/** Where a row's bytes go: the chunk's buffer, and the rows before the chunk. */
export interface ChunkTarget {
  buffer: GPUBuffer;
  index: number;
  /** Rows before this chunk. */
  rowBase: number;
}

/**
 * A column's GPU storage: one buffer per chunk of the table's `ChunkLayout`, each made once at its
 * final size and kept until the column is destroyed, so that a bind group made while the table loads
 * stays valid. A column longer than one buffer allows (`maxStorageBufferBindingSize`, `maxBufferSize`,
 * `chunkBytes`) simply has several.
 */
export class ChunkedBuffer {
  readonly #buffers: GPUBuffer[] = [];
  readonly #tracker: BufferTracker;
  readonly #layout: ChunkLayout;
  readonly #details: ErrorDetails;
  readonly label: string;

  /** `bytesOf(rows)` is the bytes `rows` rows take; `label` and `details` name the column in errors. */
  constructor(
    tracker: BufferTracker,
    layout: ChunkLayout,
    label: string,
    details: ErrorDetails,
    readonly bytesOf: (rows: number) => number,
  ) {
    this.#tracker = tracker;
    this.#layout = layout;
    this.label = label;
    this.#details = details;
  }

  /**
   * Makes, now, the buffers of the layout's chunks that have none yet, each at its final size; resolves
   * once the device has made them all, or rejects with its refusal (see `BufferTracker.createNow`). A
   * chunk over the loader's or the device's limit throws `LIMIT_EXCEEDED` at once.
   */
  allocate(): Promise<void> {
    return settleAll(this.#createMissing());
  }

  /** Creates the missing buffers one by one, as the answers about them are taken. */
  *#createMissing(): Generator<Promise<void>> {
    const chunks = this.#layout.chunks;
    while (this.#buffers.length < chunks.length) {
      const { capacity } = chunks[this.#buffers.length] as { capacity: number };
      const size = Math.max(4, this.bytesOf(capacity));
      const made = this.#tracker.createNow(
        { label: this.label, size, usage: COLUMN_USAGE() },
        { limit: this.#tracker.columnLimit, details: this.#details },
      );
      this.#buffers.push(made.buffer);
      yield made.created;
    }
  }

  /** The chunk holding row `row`. */
  target(row: number): ChunkTarget {
    const index = this.#layout.indexOf(row);
    const buffer = this.#buffers[index];
    if (!buffer) throw new Error(`${this.label} has no buffer for row ${row}`);
    return { buffer, index, rowBase: (this.#layout.chunks[index] as { rowOffset: number }).rowOffset };
  }

  /** The buffers holding rows of a column of `rows` rows, with the rows each holds. */
  buffers(rows: number): Array<ColumnChunk & { buffer: GPUBuffer }> {
    const out: Array<ColumnChunk & { buffer: GPUBuffer }> = [];
    for (const [index, buffer] of this.#buffers.entries()) {
      const { rowOffset, capacity } = this.#layout.chunks[index] as { rowOffset: number; capacity: number };
      const chunkRows = Math.min(capacity, rows - rowOffset);
      if (chunkRows <= 0) break;
      out.push({ rowOffset, rows: chunkRows, byteLength: this.bytesOf(chunkRows), buffer });
    }
    return out;
  }

  /** Destroys the buffers of chunks the layout no longer has (after `ChunkLayout.truncate`). */
  dropTruncated(): void {
    while (this.#buffers.length > this.#layout.chunks.length) {
      this.#tracker.destroy(this.#buffers.pop() as GPUBuffer);
    }
  }

  /** Destroys every chunk. */
  destroy(): void {
    for (const buffer of this.#buffers) this.#tracker.destroy(buffer);
    this.#buffers.length = 0;
  }

  /** The loader's `maxBufferBytes` caps a column's bytes, however many chunks hold them. */
  checkTotal(rows: number): void {
    const limit = this.#tracker.columnLimit;
    const bytes = this.bytesOf(rows);
    if (limit === this.#tracker.deviceLimit || bytes <= limit.bytes) return;
    throw new LimitError(
      `${this.label} needs ${formatBytes(bytes)} of GPU buffers, over ${limit.name} of ${formatBytes(limit.bytes)}`,
      { ...this.#details, expected: limit.bytes, actual: bytes },
    );
  }
}
