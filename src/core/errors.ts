/** Stable machine-readable codes carried by every error the loader raises. */
export type ErrorCode =
  | 'HTTP_STATUS'
  | 'NETWORK'
  | 'NOT_ARROW'
  | 'TRUNCATED'
  | 'CORRUPT'
  | 'UNSUPPORTED_TYPE'
  | 'NO_SUCH_COLUMN'
  | 'SCHEMA_MISMATCH'
  | 'ABORTED'
  | 'DEVICE_LOST'
  | 'GPU_OUT_OF_MEMORY'
  | 'LIMIT_EXCEEDED'
  | 'WORKER_FAILED';

/** Where the fault was found, as far as it is known. */
export interface ErrorDetails {
  url?: string;
  column?: string;
  arrowType?: string;
  batch?: number;
  byteOffset?: number;
  status?: number;
  expected?: number;
  actual?: number;
}

/** Base class of every error raised by arrow-webgpu; `code` is stable across releases. */
export class ArrowGpuError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
    this.name = 'ArrowGpuError';
  }
}

/** The server answered with a non-2xx status (`details.status`). */
export class HttpStatusError extends ArrowGpuError {
  constructor(message: string, details: ErrorDetails) {
    super('HTTP_STATUS', message, details);
    this.name = 'HttpStatusError';
  }
}

/** The request failed, was blocked (CORS), stalled or lost its connection. */
export class NetworkError extends ArrowGpuError {
  constructor(message: string, details: ErrorDetails, options?: { cause?: unknown }) {
    super('NETWORK', message, details, options);
    this.name = 'NetworkError';
  }
}

/** The bytes are not Arrow IPC, end early, or are inconsistent. */
export class DecodeError extends ArrowGpuError {
  constructor(
    code: 'NOT_ARROW' | 'TRUNCATED' | 'CORRUPT',
    message: string,
    details: ErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(code, message, details, options);
    this.name = 'DecodeError';
  }
}

/** A selected column has an Arrow type that has no GPU encoding yet. */
export class UnsupportedTypeError extends ArrowGpuError {
  constructor(message: string, details: ErrorDetails) {
    super('UNSUPPORTED_TYPE', message, details);
    this.name = 'UnsupportedTypeError';
  }
}

/** A requested column is missing, or a batch disagrees with the schema. */
export class ColumnError extends ArrowGpuError {
  constructor(code: 'NO_SUCH_COLUMN' | 'SCHEMA_MISMATCH', message: string, details: ErrorDetails) {
    super(code, message, details);
    this.name = 'ColumnError';
  }
}

/** The load was cancelled through its `AbortSignal`. Its `name` is `'AbortError'`, as for `fetch`. */
export class AbortError extends ArrowGpuError {
  constructor(message = 'The load was aborted', details: ErrorDetails = {}) {
    super('ABORTED', message, details);
    this.name = 'AbortError';
  }
}

/** The `AbortError` of a cancelled load of `url`. */
export function loadAborted(url: string): AbortError {
  return new AbortError(`Load of ${url} was aborted`, { url });
}

/** The GPU device was lost, ran out of memory, or a size exceeds its limits. */
export class GpuError extends ArrowGpuError {
  constructor(
    code: 'DEVICE_LOST' | 'GPU_OUT_OF_MEMORY' | 'LIMIT_EXCEEDED',
    message: string,
    details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, details, options);
    this.name = 'GpuError';
  }
}

/** The worker died or was terminated while a call was pending. */
export class WorkerFailedError extends ArrowGpuError {
  constructor(message: string) {
    super('WORKER_FAILED', message);
    this.name = 'WorkerFailedError';
  }
}

/** The plain-data form of an `ArrowGpuError`, as it crosses the worker boundary. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
  stack?: string;
}

/** Turns an `ArrowGpuError` into structured-cloneable data. */
export function serializeError(error: ArrowGpuError): SerializedError {
  return { code: error.code, message: error.message, details: { ...error.details }, stack: error.stack };
}

/** Rebuilds the right `ArrowGpuError` subclass from its serialized form. */
export function deserializeError(data: SerializedError): ArrowGpuError {
  const { code, message, details } = data;
  let error: ArrowGpuError;
  switch (code) {
    case 'HTTP_STATUS':
      error = new HttpStatusError(message, details);
      break;
    case 'NETWORK':
      error = new NetworkError(message, details);
      break;
    case 'NOT_ARROW':
    case 'TRUNCATED':
    case 'CORRUPT':
      error = new DecodeError(code, message, details);
      break;
    case 'UNSUPPORTED_TYPE':
      error = new UnsupportedTypeError(message, details);
      break;
    case 'NO_SUCH_COLUMN':
    case 'SCHEMA_MISMATCH':
      error = new ColumnError(code, message, details);
      break;
    case 'ABORTED':
      error = new AbortError(message, details);
      break;
    case 'DEVICE_LOST':
    case 'GPU_OUT_OF_MEMORY':
    case 'LIMIT_EXCEEDED':
      error = new GpuError(code, message, details);
      break;
    default:
      error = new WorkerFailedError(message);
  }
  if (data.stack) error.stack = data.stack;
  return error;
}

/** Prints a byte count as MiB/KiB/bytes for error messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB (${bytes} bytes)`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB (${bytes} bytes)`;
  return `${bytes} bytes`;
}
