import { formatBytes, LimitError } from '../../errors.js';
import { type Brush, checkBrush } from './bin-options.js';
import { BIN_CODE_BELOW } from './column-pass-wgsl.js';
import { invalidQueryOption, isRecord } from './query-options.js';

/** Most dimensions of one crossfilter. */
export const MAX_CROSSFILTER_DIMS = 16;
/** Most bins of one crossfilter dimension: bin codes are u16, the top four kept for below, above, NaN, null. */
export const MAX_CROSSFILTER_BINS = BIN_CODE_BELOW;

/** A crossfilter call, its shape checked: the dimensions in order, their bin options unchecked yet. */
export interface CrossfilterRequest {
  dims: Array<{ name: string; spec: unknown }>;
  brush: Map<string, Brush>;
}

/**
 * Checks the shape of `crossfilter` options: `dims` an object of 1 to 16 column names, `brush` (if
 * any) brushes of dimensions named in `dims`. Each dimension's bins are checked with its column.
 */
export function checkCrossfilterOptions(options: unknown): CrossfilterRequest {
  const call = 'crossfilter';
  if (!isRecord(options)) throw invalidQueryOption(call, 'options', 'an object', options);
  const { dims, brush } = options;
  const count = isRecord(dims) ? Object.keys(dims).length : 0;
  if (!isRecord(dims) || count < 1 || count > MAX_CROSSFILTER_DIMS) {
    const expected = `an object of 1 to ${MAX_CROSSFILTER_DIMS} dimensions by column name`;
    throw invalidQueryOption(call, 'dims', expected, isRecord(dims) ? count : dims, MAX_CROSSFILTER_DIMS);
  }
  const names = Object.keys(dims);
  if (brush !== undefined && !isRecord(brush)) {
    throw invalidQueryOption(call, 'brush', 'an object of brushes by dimension name', brush);
  }
  const brushes = new Map<string, Brush>();
  for (const [name, value] of Object.entries(brush ?? {})) {
    if (!names.includes(name)) {
      const expected = `a dimension named in dims (${names.map((n) => JSON.stringify(n)).join(', ')})`;
      throw invalidQueryOption(call, `brush.${name}`, expected, name);
    }
    brushes.set(name, checkBrush({ call, prefix: 'brush.' }, name, value));
  }
  return { dims: names.map((name) => ({ name, spec: dims[name] })), brush: brushes };
}

/** Words of a crossfilter's per-row state: bin codes and brush bits, each dimension's in turn. */
export interface CrossfilterSizes {
  /** u32 words of one dimension's bin codes (two rows a word). */
  codeWords: number;
  /** u32 words of one dimension's brush bits (32 rows a word). */
  maskWords: number;
}

/**
 * The per-row state of `dims` dimensions over `rows` rows; `LIMIT_EXCEEDED` naming the sizes when its bin
 * codes (2 bytes a row and dimension, one binding) would not fit the device's binding or buffer size.
 */
export function crossfilterSizes(
  rows: number,
  dims: number,
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>,
): CrossfilterSizes {
  const codeWords = Math.ceil(rows / 2);
  const maskWords = Math.ceil(rows / 32);
  const bytes = dims * codeWords * 4;
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (bytes > limit) {
    const name = limit === limits.maxBufferSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
    throw new LimitError(
      `crossfilter: ${dims} dimensions of ${rows} rows need ${formatBytes(bytes)} of bin codes (2 bytes a row ` +
        `and dimension, in one binding), over the device's ${name} of ${formatBytes(limit)}: use fewer dimensions`,
      { expected: limit, actual: bytes },
    );
  }
  return { codeWords, maskWords };
}
