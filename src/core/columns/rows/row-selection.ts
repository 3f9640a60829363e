/** Consecutive rows `[start, end)` of a table. */
export interface RowRun {
  start: number;
  end: number;
}

/** The rows a read returns, in row order, as runs of consecutive rows; `rows` counts them. */
export interface RowSelection {
  runs: RowRun[];
  rows: number;
}

/** Rows `[offset, offset + limit)` of a table of `numRows` rows (fewer at its end, none past it). */
export function rangeSelection(numRows: number, offset: number, limit: number): RowSelection {
  const end = Math.min(numRows, offset + limit);
  if (offset >= end) return { runs: [], rows: 0 };
  return { runs: [{ start: offset, end }], rows: end - offset };
}

/**
 * The rows a mask keeps (bit `i & 31` of word `i >> 5` set = row `i`, as validity words), skipping the
 * first `offset` of them and keeping at most `limit`. Bits at or past `numRows` are ignored. Whole words
 * are skipped by their population count, so a mask is scanned at about a word a step.
 */
export function maskSelection(
  mask: Uint32Array,
  numRows: number,
  offset: number,
  limit: number,
): RowSelection {
  const words = Math.ceil(numRows / 32);
  if (mask.length < words) {
    throw new RangeError(`a row mask of ${numRows} rows needs ${words} words, not ${mask.length}`);
  }
  const runs: RowRun[] = [];
  let skip = offset;
  let rows = 0;
  for (let w = 0; w < words && rows < limit; w++) {
    let bits = (mask[w] as number) & lastWordMask(w, numRows);
    if (bits === 0) continue;
    const count = popcount(bits);
    if (count <= skip) {
      skip -= count;
      continue;
    }
    while (bits !== 0 && rows < limit) {
      const bit = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      if (skip > 0) {
        skip--;
        continue;
      }
      append(runs, w * 32 + bit);
      rows++;
    }
  }
  return { runs, rows };
}

/** The bits of word `w` that are rows of the table. */
function lastWordMask(w: number, numRows: number): number {
  const left = numRows - w * 32;
  return left >= 32 ? 0xffffffff : (1 << left) - 1;
}

/** Adds `row` to the last run when it follows it, else starts a run. */
function append(runs: RowRun[], row: number): void {
  const last = runs[runs.length - 1];
  if (last && last.end === row) last.end++;
  else runs.push({ start: row, end: row + 1 });
}

/** Set bits of a 32-bit word. */
export function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Runs that are read back together, and the rows from the first run's start to the last run's end. */
export interface RowWindow extends RowRun {
  /** The runs inside the window, each with the index of its first row among the rows read. */
  runs: Array<RowRun & { at: number }>;
}

/**
 * The gap (in rows) up to which runs must be merged so that at most `maxWindows` windows remain:
 * splitting only at larger gaps keeps the smallest gaps inside windows, so the rows read that nobody
 * asked for are the fewest such a bound allows. -1 when every run can be a window of its own.
 */
export function windowGap(selection: RowSelection, maxWindows: number): number {
  const { runs } = selection;
  if (runs.length <= maxWindows) return -1;
  const gaps = Float64Array.from(runs.slice(1), (run, i) => run.start - (runs[i] as RowRun).end).sort();
  // At most maxWindows - 1 gaps are larger than the maxWindows-th largest.
  return gaps[gaps.length - maxWindows] as number;
}

/** Groups runs into windows, merging runs whose gap is at most `mergeGap` rows. */
export function rowWindows(selection: RowSelection, mergeGap: number): RowWindow[] {
  const windows: RowWindow[] = [];
  let at = 0;
  for (const run of selection.runs) {
    const last = windows[windows.length - 1];
    const placed = { start: run.start, end: run.end, at };
    if (last && run.start - last.end <= mergeGap) {
      last.end = run.end;
      last.runs.push(placed);
    } else windows.push({ start: run.start, end: run.end, runs: [placed] });
    at += run.end - run.start;
  }
  return windows;
}
