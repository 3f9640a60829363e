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

/** A crossfilter dimension for the CPU: its values, bin codes, bin count, brush and the brush's row flags. */
export interface JsDim {
  values: Values;
  codes: Uint16Array;
  bins: number;
  brush: readonly [number, number] | null;
  /** 1 where the row is inside `brush`, for the brush it was computed for (recomputed when it moves). */
  inside: { brush: readonly [number, number]; flags: Uint8Array } | null;
}

/** The rows inside `dim`'s brush, recomputed only when the brush moved (as the GPU keeps its brush bits). */
function insideFlags(dim: JsDim, brush: readonly [number, number]): Uint8Array {
  if (dim.inside?.brush === brush) return dim.inside.flags;
  const { values } = dim;
  const flags = dim.inside?.flags ?? new Uint8Array(values.length);
  const [lo, hi] = brush;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    flags[i] = +(v >= lo) & +(v < hi);
  }
  dim.inside = { brush, flags };
  return flags;
}

/**
 * One brush update: each dimension's histogram over the rows that pass every other dimension's brush,
 * with the bins computed beforehand and the flags of brushes that did not move kept (as the GPU does).
 * Tight branch-free loops, one array each (random brush outcomes would mispredict branches): the brushes
 * each row fails as bits, then each dimension's count, rows outside its bins counted into a spare slot.
 */
export function jsCrossfilter(dims: readonly JsDim[]): Uint32Array[] {
  const rows = dims[0]?.values.length ?? 0;
  const fails = new Uint8Array(rows);
  for (const [d, dim] of dims.entries()) {
    if (!dim.brush) continue;
    const inside = insideFlags(dim, dim.brush);
    for (let i = 0; i < rows; i++) fails[i] = (fails[i] as number) | ((1 - (inside[i] as number)) << d);
  }
  return dims.map((dim, d) => {
    const { bins, codes } = dim;
    const counts = new Uint32Array(bins + 1);
    const others = ~(1 << d) & 0xff;
    for (let i = 0; i < rows; i++) {
      const code = Math.min(codes[i] as number, bins);
      counts[code] = (counts[code] as number) + ((((fails[i] as number) & others) - 1) >>> 31);
    }
    return counts.subarray(0, bins);
  });
}
