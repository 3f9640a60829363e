import { type Data, Type } from 'apache-arrow';

// A RunEndEncoded column reaches the columns as apache-arrow decodes it here: the struct of its two
// children, `run_ends` (signed integers) and `values`. Row i of the array (after its offset) takes the
// value of the first run whose end is above it.

/** The run ends of a RunEndEncoded array, as apache-arrow decodes them. */
type RunEndArray = Int16Array | Int32Array | BigInt64Array;

/** Why a RunEndEncoded array cannot be expanded, with the sizes that disagree. */
export interface RunEndFault {
  what: string;
  sizes: { expected: number; actual: number };
}

/** Whether a type can hold run ends: Int16, Int32 or Int64. */
export function isRunEndType(type: { typeId: Type; bitWidth?: number; isSigned?: boolean }): boolean {
  return type.typeId === Type.Int && type.isSigned === true && [16, 32, 64].includes(type.bitWidth ?? 0);
}

/** The runs of one RunEndEncoded array (`data`, the struct of `run_ends` and `values`). */
export class RunEnds {
  /** The values child: run `j` takes value `j`. */
  readonly values: Data;
  /** The array's logical offset: its row 0 is row `offset` of the runs. */
  readonly offset: number;
  /** Number of runs. */
  readonly count: number;
  /** The run ends as apache-arrow decodes them (Int64 ones as bigints): read them with `Number`. */
  readonly ends: ArrayLike<number | bigint>;

  constructor(data: Data) {
    const runEnds = data.children[0] as Data;
    this.values = data.children[1] as Data;
    this.offset = data.offset;
    this.count = runEnds.length;
    this.ends = runEnds.values as RunEndArray;
  }

  /** Where run `run` ends: one past its last row, counted from the start of the runs. */
  endOf(run: number): number {
    return Number(this.ends[run]);
  }

  /** The run holding row `row` of the array (its offset applied): the first whose end is above it. */
  runOf(row: number): number {
    const at = this.offset + row;
    let low = 0;
    let high = this.count - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.endOf(mid) > at) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  /**
   * Calls `visit(run, from, to)` for each run over rows `[first, first + count)` of the array, in
   * order; `from` and `to` count from `first`, `to` excluded.
   */
  forEach(first: number, count: number, visit: (run: number, from: number, to: number) => void): void {
    if (count <= 0) return;
    const start = this.offset + first;
    const end = start + count;
    let from = 0;
    for (let run = this.runOf(first); from < count; run++) {
      const to = Math.min(this.endOf(run), end) - start;
      visit(run, from, to);
      from = to;
    }
  }
}

/**
 * Why the RunEndEncoded array `data` cannot give `rows` rows, or `null`: the run ends must be non-null,
 * held in full by their buffer, strictly increasing from above 0, and reach past the array's last row;
 * the values must have one value for each run up to that row. Checked before anything reads them.
 */
export function runEndFault(data: Data, rows: number): RunEndFault | null {
  const runEnds = data.children[0] as Data | undefined;
  const values = data.children[1] as Data | undefined;
  if (!runEnds || !values) return fault('the run_ends or values child is missing', 2, data.children.length);
  if (runEnds.nullCount > 0) return fault(`${runEnds.nullCount} run ends are null`, 0, runEnds.nullCount);
  const ends = runEnds.values as RunEndArray | undefined;
  const held = ends?.length ?? 0;
  if (held < runEnds.length) {
    return fault(
      `the run_ends buffer holds ${held} run ends, its node declares ${runEnds.length}`,
      runEnds.length,
      held,
    );
  }
  const last = data.offset + rows;
  let previous = 0;
  let needed = rows === 0 ? 0 : -1;
  for (let run = 0; run < runEnds.length; run++) {
    const end = Number((ends as RunEndArray)[run]);
    if (!(end > previous)) {
      const before =
        run === 0 ? 'run ends start above 0' : `they must increase (run ${run - 1} ends at ${previous})`;
      return fault(`run ${run} ends at ${end}, but ${before}`, previous + 1, end);
    }
    if (needed < 0 && end >= last) needed = run + 1;
    previous = end;
  }
  if (needed < 0) {
    return fault(`the last run ends at row ${previous}, before the array's ${last} rows`, last, previous);
  }
  if (values.length < needed) {
    return fault(
      `the values child holds ${values.length} values, its runs need ${needed}`,
      needed,
      values.length,
    );
  }
  return null;
}

function fault(what: string, expected: number, actual: number): RunEndFault {
  return { what, sizes: { expected, actual } };
}

/**
 * Expands a per-run validity to the array's rows `[0, rows)`: a new bitmap (LSB first) where each row
 * has its run's bit, and its null count. `valid` says whether run `j`'s value is valid.
 */
export function expandValidity(
  runs: RunEnds,
  rows: number,
  valid: (run: number) => boolean,
): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
  let nullCount = 0;
  runs.forEach(0, rows, (run, from, to) => {
    if (valid(run)) return;
    nullCount += to - from;
    clearBits(bitmap, from, to);
  });
  return { bitmap, nullCount };
}

/** Clears bits `[from, to)` of an LSB-first bitmap: whole bytes at once. */
function clearBits(bitmap: Uint8Array, from: number, to: number): void {
  let bit = from;
  for (; bit < to && (bit & 7) !== 0; bit++)
    bitmap[bit >> 3] = (bitmap[bit >> 3] as number) & ~(1 << (bit & 7));
  const wholeEnd = to & ~7;
  if (bit < wholeEnd) {
    bitmap.fill(0, bit >> 3, wholeEnd >> 3);
    bit = wholeEnd;
  }
  for (; bit < to; bit++) bitmap[bit >> 3] = (bitmap[bit >> 3] as number) & ~(1 << (bit & 7));
}
