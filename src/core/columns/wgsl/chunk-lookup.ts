import { LimitError } from '../../errors.js';

/** Rows `[rowOffset, rowOffset + rows)` of a column, held by one buffer. */
export interface ChunkRange {
  rowOffset: number;
  rows: number;
}

/** A WGSL u32 literal. */
export function u32(n: number): string {
  return `${n}u`;
}

/**
 * The statements of an accessor over a column's chunks: `if (row < end) { return … }` for each chunk
 * but the last, whose read ends the function, the chunk ends baked in as constants. `read(k, local)`
 * is the expression for chunk `k`, `local` the row within that chunk; `empty` is returned when there
 * is no chunk (no rows). Rows past the last chunk's end read from the last chunk, which WebGPU's
 * bounds checks keep inside its buffer: what they return is unspecified.
 */
export function chunkLookup(
  chunks: readonly ChunkRange[],
  read: (k: number, local: string) => string,
  empty: string,
): string[] {
  if (chunks.length === 0) return [`  return ${empty};`];
  return chunks.map((chunk, k) => {
    const local = chunk.rowOffset === 0 ? 'row' : `(row - ${u32(chunk.rowOffset)})`;
    if (k === chunks.length - 1) return `  return ${read(k, local)};`;
    return `  if (row < ${u32(chunk.rowOffset + chunk.rows)}) { return ${read(k, local)}; }`;
  });
}

/**
 * Checks what accessors rely on: chunks follow each other from row 0, each but the last holds a
 * multiple of 32 rows (so that a row's bit in a packed word is `row & 31` in every chunk), and a u32
 * indexes every row (`LIMIT_EXCEEDED` otherwise).
 */
export function checkChunks(column: string, chunks: readonly ChunkRange[]): void {
  let next = 0;
  for (const [k, chunk] of chunks.entries()) {
    const last = k === chunks.length - 1;
    if (chunk.rowOffset !== next || chunk.rows <= 0 || (!last && chunk.rows % 32 !== 0)) {
      throw new Error(
        `column ${JSON.stringify(column)}: chunk ${k} holds rows ${chunk.rowOffset}+${chunk.rows}, ` +
          `not the next ${last ? '' : 'multiple of 32 '}rows from ${next}`,
      );
    }
    next += chunk.rows;
  }
  // Shaders index rows with a u32.
  if (next > MAX_ROWS) {
    throw new LimitError(
      `column ${JSON.stringify(column)} has ${next} rows; WGSL reads at most ${MAX_ROWS}`,
      {
        column,
        expected: MAX_ROWS,
        actual: next,
      },
    );
  }
}

/** Rows a u32 row index reaches. */
const MAX_ROWS = 2 ** 32 - 1;
