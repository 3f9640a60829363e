import type { ReadRowsOptions } from '../../types.js';
import { columnBytes } from '../columns/column-bytes.js';
import { ArgumentError, type ErrorDetails } from '../errors.js';
import type { UploadedColumn } from '../gpu/upload/table-uploader.js';

/** Most rows one `readRows` returns. */
export const MAX_READ_ROWS = 1_000_000;

/** Most GPU bytes (values and validity words) of the rows one `readRows` may ask for. */
export const MAX_READ_BYTES = 256 << 20;

/** A `readRows` request, checked. */
export interface CheckedReadRows {
  columns: string[] | undefined;
  offset: number;
  limit: number;
}

/** Throws `INVALID_ARGUMENT` naming the first option of `readRows` that is out of range. */
export function checkReadRows(options: ReadRowsOptions): CheckedReadRows {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid('options', 'an object with a limit', options);
  }
  const { columns, offset = 0, limit } = options;
  if (columns !== undefined) {
    if (!Array.isArray(columns)) throw invalid('columns', 'an array of column names', columns);
    const at = columns.findIndex((name) => typeof name !== 'string');
    if (at >= 0) throw invalid(`columns[${at}]`, 'a column name (a string)', columns[at]);
  }
  if (!(Number.isSafeInteger(offset) && offset >= 0)) {
    throw invalid('offset', 'a whole number of rows, at least 0', offset, 0);
  }
  if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= MAX_READ_ROWS)) {
    throw invalid('limit', `a whole number of rows from 1 to ${MAX_READ_ROWS}`, limit, MAX_READ_ROWS);
  }
  return { columns: columns && [...columns], offset, limit };
}

/**
 * Throws `INVALID_ARGUMENT` (option `limit`) when `limit` rows of `columns` would take more than
 * `MAX_READ_BYTES` of GPU words: a bound on what one call reads back and holds, known before any read.
 */
export function checkReadBytes(columns: readonly UploadedColumn[], limit: number): void {
  const perRow = columns.reduce((n, c) => n + columnBytes(c.plan, 32) / 32 + (c.validity ? 1 / 8 : 0), 0);
  const most = Math.floor(MAX_READ_BYTES / perRow);
  if (limit <= most) return;
  const names = columns.map((c) => JSON.stringify(c.plan.name)).join(', ');
  throw invalid(
    'limit',
    `at most ${most} for columns ${names} (${perRow} bytes a row on the GPU; one read is capped at ${MAX_READ_BYTES} bytes)`,
    limit,
    most,
  );
}

function invalid(option: string, expected: string, actual: unknown, limit?: number): ArgumentError {
  const details: ErrorDetails = { option };
  if (limit !== undefined) details.expected = limit;
  if (typeof actual === 'number') details.actual = actual;
  return new ArgumentError(`readRows: ${option} must be ${expected}, got ${show(actual)}`, details);
}

/** A value as a message shows it: strings quoted, objects by kind (never their contents). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}
