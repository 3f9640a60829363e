import { type ErrorDetails, formatBytes, LimitError } from '../errors.js';
import type { BufferTracker } from './buffer-tracker.js';
import type { GpuErrorWatch } from './error-scope.js';
import { GrowableBuffer } from './growable-buffer.js';

/** Rows `[rowOffset, rowOffset + rows)` of a column, held by one GPU buffer of `byteLength` bytes. */
export interface ColumnChunk {
  rowOffset: number;
  rows: number;
  byteLength: number;
}

/** Where a row's bytes go: the chunk's buffer, and the byte offset of the chunk's first row. */
export interface ChunkTarget {
  buffer: GPUBuffer;
  index: number;
  /** Rows before this chunk. */
  rowBase: number;
}

/**
 * A column's GPU storage as chunks of `chunkRows` rows each (the last may be shorter), so that a column
 * can outgrow one buffer (`maxStorageBufferBindingSize`, `maxBufferSize`). Chunks are appended, never
 * copied; only the last one grows (when the final row count was not known in advance).
 */
export class ChunkedBuffer {
  readonly #chunks: GrowableBuffer[] = [];
  readonly #make: () => GrowableBuffer;
  readonly #tracker: BufferTracker;
  readonly #details: ErrorDetails;
  readonly label: string;

  /** `bytesOf(rows)` is the bytes `rows` rows take; every chunk but the last holds `chunkRows` rows. */
  constructor(
    device: GPUDevice,
    tracker: BufferTracker,
    watch: GpuErrorWatch,
    label: string,
    details: ErrorDetails,
    readonly chunkRows: number,
    readonly bytesOf: (rows: number) => number,
  ) {
    this.#tracker = tracker;
    this.#details = details;
    this.label = label;
    this.#make = () => new GrowableBuffer(device, tracker, watch, label, details);
  }

  /** Bytes the chunks can hold now, all together. */
  get capacity(): number {
    return this.#chunks.reduce((n, c) => n + c.capacity, 0);
  }

  /** Makes room for `rows` rows, keeping the first `usedRows`; `preferredRows` sizes the last chunk. */
  async reserve(rows: number, usedRows: number, preferredRows: number): Promise<void> {
    this.#checkTotal(rows);
    const last = Math.max(0, Math.ceil(rows / this.chunkRows) - 1);
    for (let index = 0; index <= last; index++) {
      const chunk = this.#chunks[index] ?? this.#make();
      this.#chunks[index] = chunk;
      const base = index * this.chunkRows;
      const full = this.bytesOf(this.chunkRows);
      const need = this.bytesOf(Math.min(rows, base + this.chunkRows) - base);
      const used = this.bytesOf(Math.max(0, Math.min(usedRows, base + this.chunkRows) - base));
      const preferred = this.bytesOf(Math.max(0, Math.min(preferredRows, base + this.chunkRows) - base));
      await chunk.reserve(need, used, preferred, full);
    }
  }

  /** The chunk holding row `row`. */
  target(row: number): ChunkTarget {
    const index = Math.floor(row / this.chunkRows);
    const chunk = this.#chunks[index];
    if (!chunk) throw new Error(`${this.label} has no chunk for row ${row}`);
    return { buffer: chunk.buffer, index, rowBase: index * this.chunkRows };
  }

  /** The buffers of a column of `rows` rows, with the rows each holds. */
  buffers(rows: number): Array<ColumnChunk & { buffer: GPUBuffer }> {
    const out: Array<ColumnChunk & { buffer: GPUBuffer }> = [];
    for (const [index, chunk] of this.#chunks.entries()) {
      const rowOffset = index * this.chunkRows;
      const chunkRows = Math.min(this.chunkRows, rows - rowOffset);
      const buffer = chunk.current;
      if (chunkRows <= 0 || !buffer) break;
      out.push({ rowOffset, rows: chunkRows, byteLength: this.bytesOf(chunkRows), buffer });
    }
    return out;
  }

  /** Destroys every chunk. */
  destroy(): void {
    for (const chunk of this.#chunks) chunk.destroy();
  }

  /** The loader's `maxBufferBytes` caps a column's bytes, however many chunks hold them. */
  #checkTotal(rows: number): void {
    const limit = this.#tracker.columnLimit;
    const bytes = this.bytesOf(rows);
    if (limit === this.#tracker.deviceLimit || bytes <= limit.bytes) return;
    throw new LimitError(
      `${this.label} needs ${formatBytes(bytes)} of GPU buffers, over ${limit.name} of ${formatBytes(limit.bytes)}`,
      { ...this.#details, expected: limit.bytes, actual: bytes },
    );
  }
}
