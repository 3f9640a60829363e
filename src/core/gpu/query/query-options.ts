import { ArgumentError, type ErrorDetails } from '../../errors.js';

/**
 * The `INVALID_ARGUMENT` error for `option` of a query `call`: expected against actual in the message,
 * and in `details` when numeric.
 */
export function invalidQueryOption(
  call: string,
  option: string,
  expected: string,
  actual: unknown,
  limit?: number,
): ArgumentError {
  const details: ErrorDetails = { option };
  if (limit !== undefined) details.expected = limit;
  if (typeof actual === 'number') details.actual = actual;
  return new ArgumentError(`${call}: ${option} must be ${expected}, got ${shown(actual)}`, details);
}

/** Whether `value` is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as a message shows it: strings quoted, objects by kind (never their contents). */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}
