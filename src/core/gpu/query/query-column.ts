import type { Encoding } from '../../columns/encoding.js';
import { ArgumentError } from '../../errors.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import type { KeySpace } from './ordered-keys.js';

/** The encodings queries read, each with how its values order. */
const SPACES: Partial<Record<Encoding, KeySpace>> = {
  f32: { domain: 'f32' },
  'f32-relative': { domain: 'f32' },
  f64: { domain: 'f64' },
  i32: { domain: 'signed', range: [-(2n ** 31n), 2n ** 31n - 1n] },
  u32: { domain: 'unsigned', range: [0n, 2n ** 32n - 1n] },
  i64: { domain: 'signed', range: [-(2n ** 63n), 2n ** 63n - 1n] },
  u64: { domain: 'unsigned', range: [0n, 2n ** 64n - 1n] },
  bool: { domain: 'unsigned', range: [0n, 1n] },
  dictionary: { domain: 'unsigned', range: [0n, 2n ** 32n - 1n] },
};

/** Whether queries read columns of `encoding`. */
export function queryable(encoding: Encoding): boolean {
  return SPACES[encoding] !== undefined;
}

/** What a query needs to know of a column beyond its buffers. */
export interface QueryColumn {
  name: string;
  encoding: Encoding;
  space: KeySpace;
  /** Whether sums, minima and maxima come back as bigints (64-bit integers). */
  wide: boolean;
  /** Whether values are integers summed exactly (128-bit accumulators). */
  integer: boolean;
}

/** The query view of a column, or `INVALID_ARGUMENT` naming it and its encoding when queries cannot read it. */
export function queryColumn(column: UploadedColumn, what: string): QueryColumn {
  const { name, encoding } = column.plan;
  const base = SPACES[encoding];
  if (!base) {
    const known = Object.keys(SPACES).join(', ');
    throw new ArgumentError(
      `${what} cannot read column ${JSON.stringify(name)}: its encoding is ${encoding} (queries read ${known})`,
      { column: name, arrowType: column.plan.arrowType },
    );
  }
  const offset = encoding === 'f32-relative' ? Number(column.extras.offset ?? 0) : undefined;
  return {
    name,
    encoding,
    space: offset === undefined ? base : { ...base, offset },
    wide: encoding === 'i64' || encoding === 'u64',
    integer: encoding === 'i32' || encoding === 'u32' || encoding === 'i64' || encoding === 'u64',
  };
}
