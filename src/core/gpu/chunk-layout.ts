/** Rows `[rowOffset, rowOffset + capacity)` of a table, held by one buffer in each column. */
export interface LayoutChunk {
  rowOffset: number;
  capacity: number;
}

/** Rows are grouped in 32s: a validity or `bool` word never straddles two chunks. */
const ROW_GROUP = 32;

const alignRows = (rows: number) => Math.ceil(rows / ROW_GROUP) * ROW_GROUP;

/** Without an estimate of the final size, each new chunk holds as many rows as all before it. */
const UNKNOWN_GROWTH = 1;

/** When an estimate fell short, each new chunk holds at least this share of the rows before it. */
const SHORT_ESTIMATE_GROWTH = 1 / 8;

/**
 * The chunks every column of a table is stored in, by rows, shared by all columns so that a batch
 * splits at the same rows in each. A chunk's size is decided once, when it is added: a table grows by
 * adding chunks, never by replacing one, so buffers stay valid (and bound) for the whole load. Every
 * chunk holds a multiple of 32 rows, except a last one cut short by `maxRows`.
 */
export class ChunkLayout {
  readonly #chunks: LayoutChunk[] = [];
  #capacity = 0;

  /**
   * `maxChunkRows` (a multiple of 32) is the most rows one buffer may hold in every column; `maxRows`
   * the most rows a column may hold in all (the loader's `maxBufferBytes`).
   */
  constructor(
    readonly maxChunkRows: number,
    readonly maxRows = Number.POSITIVE_INFINITY,
  ) {
    if (maxChunkRows < ROW_GROUP || maxChunkRows % ROW_GROUP !== 0) {
      throw new Error(`a chunk must hold a positive multiple of 32 rows, not ${maxChunkRows}`);
    }
  }

  /** The chunks, in row order. */
  get chunks(): readonly LayoutChunk[] {
    return this.#chunks;
  }

  /** Rows the chunks hold, all together. */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Adds chunks until `rows` rows fit, and returns them. They are sized towards `target` rows in all
   * (an estimate of the table's final size; 0 when unknown): one chunk takes what remains of the
   * estimate, within `maxChunkRows`. Past the estimate, or without one, each new chunk takes a share
   * of the rows before it, so that the number of chunks grows with the logarithm of the rows.
   */
  extend(rows: number, target: number): LayoutChunk[] {
    const added: LayoutChunk[] = [];
    while (this.#capacity < rows) {
      const room = this.maxRows - this.#capacity;
      if (room <= 0) throw new Error(`${rows} rows exceed the layout's ${this.maxRows}`);
      const growth = target > 0 ? SHORT_ESTIMATE_GROWTH : UNKNOWN_GROWTH;
      const goal = target >= rows ? target : Math.max(rows, this.#capacity * (1 + growth));
      const capacity = Math.min(alignRows(goal - this.#capacity), this.maxChunkRows, room);
      const chunk = { rowOffset: this.#capacity, capacity };
      this.#chunks.push(chunk);
      this.#capacity += capacity;
      added.push(chunk);
    }
    return added;
  }

  /** The index of the chunk holding `row`. */
  indexOf(row: number): number {
    // Few chunks (a handful, at most a few dozen): a scan from the end, where appends write, is enough.
    for (let k = this.#chunks.length - 1; k >= 0; k--) {
      if ((this.#chunks[k] as LayoutChunk).rowOffset <= row) {
        if (row < this.#capacity) return k;
        break;
      }
    }
    throw new Error(`row ${row} is past the layout's ${this.#capacity} rows`);
  }

  /** Drops the chunks after the one holding row `rows - 1` (none hold a row), and returns how many went. */
  truncate(rows: number): number {
    let dropped = 0;
    while (
      this.#chunks.length > 0 &&
      (this.#chunks[this.#chunks.length - 1] as LayoutChunk).rowOffset >= rows
    ) {
      const chunk = this.#chunks.pop() as LayoutChunk;
      this.#capacity -= chunk.capacity;
      dropped++;
    }
    return dropped;
  }
}

/** The most rows `bytesOf` fits in `limit` bytes (rows of a bit-packed column come 32 at a time). */
export function rowsWithin(limit: number, bytesOf: (rows: number) => number): number {
  const group = bytesOf(ROW_GROUP);
  if (group === 0) return Number.POSITIVE_INFINITY;
  if (bytesOf(1) === group) return Math.floor(limit / group) * ROW_GROUP; // one word holds 32 rows
  return Math.floor(limit / (group / ROW_GROUP));
}
