// The plain JavaScript loops the query benchmark measures the GPU against: one pass over the same values
// in typed arrays, the way a page would compute them on the main thread.

/** The values of a column for the CPU loops: floats, integers or dictionary codes. */
export type Values = Float32Array | Float64Array | Int32Array;

/** Count, min, max and sum of the finite values (NaN left out), as `describe` gives them. */
export function jsDescribe(values: Values): { count: number; min: number; max: number; sum: number } {
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { count, min, max, sum };
}

/** `bins` equal bins over `[min, max]` by arithmetic (the fast way in JS), values outside dropped. */
export function jsHistogram(values: Values, bins: number, min: number, max: number): Uint32Array {
  const counts = new Uint32Array(bins);
  const scale = bins / (max - min);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= min && v <= max)) continue;
    const b = Math.floor((v - min) * scale);
    const at = b < bins ? b : bins - 1;
    counts[at] = (counts[at] as number) + 1;
  }
  return counts;
}

/** Each row's bin in one dimension, for the crossfilter loop (as the GPU keeps them: 0xffff outside). */
export function jsBinCodes(values: Values, bins: number, min: number, max: number): Uint16Array {
  const codes = new Uint16Array(values.length);
  const scale = bins / (max - min);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= min && v <= max)) codes[i] = 0xffff;
    else {
      const b = Math.floor((v - min) * scale);
      codes[i] = b < bins ? b : bins - 1;
    }
  }
  return codes;
}

/** A crossfilter dimension for the CPU: its values, bin codes, bin count and brush (or null). */
export interface JsDim {
  values: Values;
  codes: Uint16Array;
  bins: number;
  brush: readonly [number, number] | null;
}

/**
 * One brush update: each dimension's histogram over the rows that pass every other dimension's brush,
 * with the bins computed beforehand (as the GPU keeps them), brushes tested on the values.
 */
export function jsCrossfilter(dims: readonly JsDim[]): Uint32Array[] {
  const counts = dims.map((d) => new Uint32Array(d.bins));
  const rows = dims[0]?.values.length ?? 0;
  const n = dims.length;
  for (let i = 0; i < rows; i++) {
    let fails = 0;
    let failed = -1;
    for (let d = 0; d < n; d++) {
      const { brush, values } = dims[d] as JsDim;
      if (!brush) continue;
      const v = values[i] as number;
      if (!(v >= brush[0] && v < brush[1])) {
        fails++;
        failed = d;
      }
    }
    if (fails > 1) continue;
    for (let d = 0; d < n; d++) {
      if (fails === 1 && d !== failed) continue;
      const code = (dims[d] as JsDim).codes[i] as number;
      const into = counts[d] as Uint32Array;
      if (code !== 0xffff) into[code] = (into[code] as number) + 1;
    }
  }
  return counts;
}
