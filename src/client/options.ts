import { ArgumentError, type ErrorDetails } from '../core/errors.js';
import type { UploadStrategy } from '../types.js';
import type { LoaderOptions, LoadOptions, OpenOptions } from './create-loader.js';

const UPLOADS: readonly UploadStrategy[] = ['staging', 'writeBuffer'];

/** Throws `INVALID_ARGUMENT` naming the first option of `createLoader` that is out of range. */
export function checkLoaderOptions(options: LoaderOptions): void {
  checkObject('createLoader', options);
  checkUpload('createLoader', options.upload);
  const { maxBufferBytes, workerUrl } = options;
  if (maxBufferBytes !== undefined && !(Number.isSafeInteger(maxBufferBytes) && maxBufferBytes >= 4)) {
    throw invalidOption(
      'createLoader',
      'maxBufferBytes',
      'an integer number of bytes, at least 4',
      maxBufferBytes,
      4,
    );
  }
  if (workerUrl !== undefined && typeof workerUrl !== 'string' && !(workerUrl instanceof URL)) {
    throw invalidOption('createLoader', 'workerUrl', 'a string or a URL', workerUrl);
  }
  checkCount('createLoader', 'chunkBytes', options.chunkBytes, 4, 'an integer number of bytes, at least 4');
  checkDecodeWorkers('createLoader', options.decodeWorkers);
  const { device, readWorker } = options;
  if (readWorker !== undefined && typeof readWorker !== 'boolean') {
    throw invalidOption('createLoader', 'readWorker', 'a boolean', readWorker);
  }
  if (device !== undefined && !isDevice(device)) {
    throw invalidOption('createLoader', 'device', 'a GPUDevice (from adapter.requestDevice())', device);
  }
}

/** Whether `value` has what a `GPUDevice` the loader writes into needs. */
function isDevice(value: unknown): value is GPUDevice {
  const device = value as Partial<GPUDevice> | null;
  return typeof device?.createBuffer === 'function' && typeof device.queue?.writeBuffer === 'function';
}

/** Most decode workers one load may ask for. */
const MAX_DECODE_WORKERS = 16;

/** `decodeWorkers`, when given: a whole number from 0 to `MAX_DECODE_WORKERS`. */
function checkDecodeWorkers(call: string, value: unknown): void {
  const n = value as number;
  if (value !== undefined && !(Number.isSafeInteger(n) && n >= 0 && n <= MAX_DECODE_WORKERS)) {
    throw invalidOption(call, 'decodeWorkers', `an integer from 0 to ${MAX_DECODE_WORKERS}`, value);
  }
}

/** A whole number of at least `min`, when given. */
function checkCount(call: string, option: string, value: unknown, min: number, expected: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= min)) {
    throw invalidOption(call, option, expected, value, min);
  }
}

/** Throws `INVALID_ARGUMENT` naming the first option of `load` that is out of range. */
export function checkLoadOptions(options: LoadOptions): void {
  checkObject('load', options);
  checkUpload('load', options.upload);
  const { columns, signal, onProgress, timeoutMs } = options;
  if (columns !== undefined) checkColumns(columns);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption('load', 'signal', 'an AbortSignal', signal);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw invalidOption('load', 'onProgress', 'a function', onProgress);
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw invalidOption('load', 'timeoutMs', 'a number of milliseconds above 0', timeoutMs);
  }
  if (options.keepBytes !== undefined && typeof options.keepBytes !== 'boolean') {
    throw invalidOption('load', 'keepBytes', 'true or false', options.keepBytes);
  }
  checkCount('load', 'maxDictionary', options.maxDictionary, 1, 'an integer of at least 1');
  checkCount('load', 'rows', options.rows, 0, 'an integer number of rows, at least 0');
  checkDecodeWorkers('load', options.decodeWorkers);
  const { unsupported, encodings } = options;
  if (unsupported !== undefined && unsupported !== 'error' && unsupported !== 'skip') {
    throw invalidOption('load', 'unsupported', '"error" or "skip"', unsupported);
  }
  const table = typeof encodings === 'object' && encodings !== null && !Array.isArray(encodings);
  if (encodings !== undefined && encodings !== 'auto' && encodings !== 'exact' && !table) {
    throw invalidOption('load', 'encodings', '"auto", "exact" or an encoding per column name', encodings);
  }
}

/** Throws `INVALID_ARGUMENT` naming the first option of `open` that is out of range. */
export function checkOpenOptions(options: OpenOptions): void {
  checkLoadOptions(options);
  if (options.onBatch !== undefined && typeof options.onBatch !== 'function') {
    throw invalidOption('open', 'onBatch', 'a function', options.onBatch);
  }
}

function checkColumns(columns: unknown): void {
  if (!Array.isArray(columns)) throw invalidOption('load', 'columns', 'an array of column names', columns);
  const at = columns.findIndex((name) => typeof name !== 'string');
  if (at >= 0) throw invalidOption('load', `columns[${at}]`, 'a column name (a string)', columns[at]);
}

function checkObject(call: string, options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(call, 'options', 'an object', options);
  }
}

function checkUpload(call: string, upload: unknown): void {
  if (upload !== undefined && !UPLOADS.includes(upload as UploadStrategy)) {
    throw invalidOption(call, 'upload', UPLOADS.map((u) => JSON.stringify(u)).join(' or '), upload);
  }
}

/** The `INVALID_ARGUMENT` error for `option` of `call`: expected vs actual in the message, and in `details` when numeric. */
export function invalidOption(
  call: string,
  option: string,
  expected: string,
  actual: unknown,
  limit?: number,
) {
  const details: ErrorDetails = { option };
  if (limit !== undefined) details.expected = limit;
  if (typeof actual === 'number') details.actual = actual;
  return new ArgumentError(`${call}: ${option} must be ${expected}, got ${show(actual)}`, details);
}

/** A value as a message shows it: strings quoted, objects by kind (never their contents). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (value instanceof URL) return JSON.stringify(value.href);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof kind === 'string' && kind !== 'Object' && kind !== '' ? `a ${kind}` : 'an object';
  }
  if (typeof value === 'function') return 'a function';
  return String(value);
}
