import { bytesOf, copyBits } from '../columns/rows/bits.js';
import { type RowSelection, type RowWindow, rowWindows, windowGap } from '../columns/rows/row-selection.js';
import type { BufferTracker } from './buffer-tracker.js';
import { rejectOnGpuError, withErrorScope } from './error-scope.js';
import type { BufferChunk } from './upload/table-uploader.js';

/** A column's value or validity buffers, and how its rows map to words. */
export interface ReadPart {
  chunks: readonly BufferChunk[];
  /** Words a row; 0 for one bit a row (validity and `bool` words: 32 rows a word). */
  wordsPerRow: number;
}

/** How a read is split up. */
export interface RowReadLimits {
  /** Most windows (groups of runs read as one range) per part: the GPU copies a part takes. */
  maxWindows: number;
  /**
   * Runs of a part closer than this many bytes are read as one window: reading a gap this small costs
   * less than one more copy (each is a command of its own).
   */
  mergeGapBytes: number;
  /** Largest staging buffer of one round trip, in bytes (a multiple of 4). */
  passBytes: number;
}

/** Default limits: at most 1024 copies per part, gaps up to 64 KiB read through, 64 MiB staging buffers. */
export const ROW_READ_LIMITS: RowReadLimits = {
  maxWindows: 1024,
  mergeGapBytes: 64 << 10,
  passBytes: 64 << 20,
};

/** A range of a part's words that one staging buffer receives, and the runs read from it. */
interface Piece {
  part: number;
  /** The range's first and end word, counted across the part's chunks. */
  first: number;
  end: number;
  runs: RowWindow['runs'];
  /** Where the range lies in its pass's staging buffer, in bytes. */
  at: number;
}

/**
 * Reads the selected rows of each part back from the GPU, put end to end: `rows × wordsPerRow` words,
 * or one bit a row for bit parts. Only the words of windows around the selected runs are copied, as
 * few staging buffers (round trips) as `passBytes` allows; every copy of a round trip in one submit.
 */
export async function readSelectedRows(
  device: GPUDevice,
  tracker: BufferTracker,
  parts: readonly ReadPart[],
  selection: RowSelection,
  limits: RowReadLimits = ROW_READ_LIMITS,
): Promise<Uint32Array[]> {
  const outputs = parts.map((p) =>
    p.wordsPerRow === 0
      ? new Uint32Array(Math.ceil(selection.rows / 32))
      : new Uint32Array(selection.rows * p.wordsPerRow),
  );
  const windowsOf = partWindows(selection, limits);
  const pieces = parts.flatMap((part, i) => piecesOf(part, i, windowsOf(part), limits.passBytes));
  for (const pass of passesOf(pieces, limits.passBytes)) {
    await readPass(device, tracker, parts, pass, (piece, words) => gather(parts, outputs, piece, words));
  }
  return outputs;
}

/** Each part's windows: merged over gaps of up to `mergeGapBytes` of its words, at most `maxWindows`. */
function partWindows(selection: RowSelection, limits: RowReadLimits): (part: ReadPart) => RowWindow[] {
  const bound = windowGap(selection, limits.maxWindows);
  const byGap = new Map<number, RowWindow[]>();
  return (part) => {
    const bytesPerRow = part.wordsPerRow === 0 ? 1 / 8 : part.wordsPerRow * 4;
    const gap = Math.max(bound, Math.floor(limits.mergeGapBytes / bytesPerRow));
    const windows = byGap.get(gap) ?? rowWindows(selection, gap);
    byGap.set(gap, windows);
    return windows;
  };
}

/** The global word range that rows `[start, end)` of a part occupy. */
function wordRange(part: ReadPart, start: number, end: number): [number, number] {
  if (part.wordsPerRow === 0) return [Math.floor(start / 32), Math.ceil(end / 32)];
  return [start * part.wordsPerRow, end * part.wordsPerRow];
}

/** A part's windows as pieces of at most `passBytes`, splitting a window (and its runs) by rows. */
function piecesOf(part: ReadPart, index: number, windows: RowWindow[], passBytes: number): Piece[] {
  const passWords = passBytes / 4;
  // A bit piece may start mid-word: one word more than its rows fill.
  const maxRows =
    part.wordsPerRow === 0 ? passWords * 32 - 32 : Math.max(1, Math.floor(passWords / part.wordsPerRow));
  const pieces: Piece[] = [];
  for (const window of windows) {
    for (let start = window.start; start < window.end; start += maxRows) {
      const end = Math.min(window.end, start + maxRows);
      const [first, last] = wordRange(part, start, end);
      pieces.push({ part: index, first, end: last, runs: clip(window.runs, start, end), at: 0 });
    }
  }
  return pieces;
}

/** The parts of `runs` within rows `[start, end)`, each with its place among the rows read. */
function clip(runs: RowWindow['runs'], start: number, end: number): RowWindow['runs'] {
  const out: RowWindow['runs'] = [];
  for (const run of runs) {
    const from = Math.max(run.start, start);
    const to = Math.min(run.end, end);
    if (from < to) out.push({ start: from, end: to, at: run.at + (from - run.start) });
  }
  return out;
}

/** Pieces grouped so that each group's words fit one staging buffer of `passBytes`. */
function passesOf(pieces: Piece[], passBytes: number): Piece[][] {
  const passes: Piece[][] = [];
  let current: Piece[] = [];
  let bytes = 0;
  for (const piece of pieces) {
    const size = (piece.end - piece.first) * 4;
    if (current.length > 0 && bytes + size > passBytes) {
      passes.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ ...piece, at: bytes });
    bytes += size;
  }
  if (current.length > 0) passes.push(current);
  return passes;
}

/** One round trip: copies every piece's words into one staging buffer, maps it, hands each piece over. */
async function readPass(
  device: GPUDevice,
  tracker: BufferTracker,
  parts: readonly ReadPart[],
  pass: Piece[],
  use: (piece: Piece, words: Uint32Array) => void,
): Promise<void> {
  const last = pass[pass.length - 1] as Piece;
  const size = Math.max(4, last.at + (last.end - last.first) * 4);
  const staging = await tracker.create({
    label: 'read back rows',
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    // In a scope: a copy the GPU refuses (its source destroyed meanwhile) fails the read, not the device.
    const { error } = withErrorScope(device, () => {
      const encoder = device.createCommandEncoder({ label: 'read back rows' });
      for (const piece of pass) copyPiece(encoder, parts[piece.part] as ReadPart, piece, staging);
      device.queue.submit([encoder.finish()]);
    });
    await Promise.all([rejectOnGpuError(error, 'reading back rows'), staging.mapAsync(GPUMapMode.READ)]);
    const mapped = staging.getMappedRange();
    for (const piece of pass) use(piece, new Uint32Array(mapped, piece.at, piece.end - piece.first));
    staging.unmap();
  } finally {
    tracker.destroy(staging);
  }
}

/** Copies the words of a piece from each chunk that holds some of them. */
function copyPiece(encoder: GPUCommandEncoder, part: ReadPart, piece: Piece, staging: GPUBuffer): void {
  for (const chunk of part.chunks) {
    const [chunkFirst] = wordRange(part, chunk.rowOffset, chunk.rowOffset);
    const chunkEnd = chunkFirst + chunk.byteLength / 4;
    const from = Math.max(piece.first, chunkFirst);
    const to = Math.min(piece.end, chunkEnd);
    if (from >= to) continue;
    encoder.copyBufferToBuffer(
      chunk.buffer,
      (from - chunkFirst) * 4,
      staging,
      piece.at + (from - piece.first) * 4,
      (to - from) * 4,
    );
  }
}

/** Puts a piece's selected rows where they go among the rows read. */
function gather(parts: readonly ReadPart[], outputs: Uint32Array[], piece: Piece, words: Uint32Array): void {
  const part = parts[piece.part] as ReadPart;
  const out = outputs[piece.part] as Uint32Array;
  const perRow = part.wordsPerRow;
  for (const run of piece.runs) {
    if (perRow === 0) {
      copyBits(bytesOf(words), run.start - piece.first * 32, bytesOf(out), run.at, run.end - run.start);
    } else {
      out.set(
        words.subarray(run.start * perRow - piece.first, run.end * perRow - piece.first),
        run.at * perRow,
      );
    }
  }
}
