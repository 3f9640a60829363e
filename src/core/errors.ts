/** Every code an `ArrowGpuError` can carry; stable across releases. */
export const ERROR_CODES = [
  'HTTP_STATUS',
  'NETWORK',
  'NOT_ARROW',
  'TRUNCATED',
  'CORRUPT',
  'UNSUPPORTED_TYPE',
  'NO_SUCH_COLUMN',
  'SCHEMA_MISMATCH',
  'ABORTED',
  'NO_WEBGPU',
  'DEVICE_LOST',
  'GPU_OUT_OF_MEMORY',
  'GPU_VALIDATION',
  'LIMIT_EXCEEDED',
  'INVALID_ARGUMENT',
  'WORKER_FAILED',
  'INTERNAL',
] as const;

/** Stable machine-readable codes carried by every error the loader raises. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where the fault was found, as far as it is known. */
export interface ErrorDetails {
  url?: string;
  column?: string;
  /** Every column concerned, when there are several (e.g. all the columns without a GPU encoding). */
  columns?: string[];
  arrowType?: string;
  batch?: number;
  byteOffset?: number;
  status?: number;
  expected?: number;
  actual?: number;
  /** The option or argument that was refused (`INVALID_ARGUMENT`), e.g. `'maxBufferBytes'`. */
  option?: string;
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
  declare readonly code: 'HTTP_STATUS';
  constructor(message: string, details: ErrorDetails) {
    super('HTTP_STATUS', message, details);
    this.name = 'HttpStatusError';
  }
}

/** The request failed, was blocked (CORS), stalled or lost its connection. */
export class NetworkError extends ArrowGpuError {
  declare readonly code: 'NETWORK';
  constructor(message: string, details: ErrorDetails, options?: { cause?: unknown }) {
    super('NETWORK', message, details, options);
    this.name = 'NetworkError';
  }
}

/** Codes of `DecodeError`. */
export type DecodeErrorCode = 'NOT_ARROW' | 'TRUNCATED' | 'CORRUPT';

/** The bytes are not Arrow IPC, end early, or are inconsistent. */
export class DecodeError extends ArrowGpuError {
  declare readonly code: DecodeErrorCode;
  constructor(code: DecodeErrorCode, message: string, details: ErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = 'DecodeError';
  }
}

/** A selected column has an Arrow type that has no GPU encoding yet. */
export class UnsupportedTypeError extends ArrowGpuError {
  declare readonly code: 'UNSUPPORTED_TYPE';
  constructor(message: string, details: ErrorDetails) {
    super('UNSUPPORTED_TYPE', message, details);
    this.name = 'UnsupportedTypeError';
  }
}

/** A requested column is missing, or a batch disagrees with the schema. */
export class ColumnError extends ArrowGpuError {
  declare readonly code: 'NO_SUCH_COLUMN' | 'SCHEMA_MISMATCH';
  constructor(code: 'NO_SUCH_COLUMN' | 'SCHEMA_MISMATCH', message: string, details: ErrorDetails) {
    super(code, message, details);
    this.name = 'ColumnError';
  }
}

/** The load was cancelled through its `AbortSignal`. Its `name` is `'AbortError'`, as for `fetch`. */
export class AbortError extends ArrowGpuError {
  declare readonly code: 'ABORTED';
  constructor(message = 'The load was aborted', details: ErrorDetails = {}) {
    super('ABORTED', message, details);
    this.name = 'AbortError';
  }
}

/** The `AbortError` of a cancelled load of `url`. */
export function loadAborted(url: string): AbortError {
  return new AbortError(`Load of ${url} was aborted`, { url });
}

/** Codes of `GpuError`. */
export type GpuErrorCode = 'NO_WEBGPU' | 'DEVICE_LOST' | 'GPU_OUT_OF_MEMORY' | 'GPU_VALIDATION';

/**
 * WebGPU is missing, the device was lost, or the device refused an operation: out of memory, or a
 * validation error (the WebGPU message is in `message`).
 */
export class GpuError extends ArrowGpuError {
  declare readonly code: GpuErrorCode;
  constructor(
    code: GpuErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, details, options);
    this.name = 'GpuError';
  }
}

/** A size is over a cap: the device's buffer limits, the loader's `maxBufferBytes`, or a message body cap. */
export class LimitError extends ArrowGpuError {
  declare readonly code: 'LIMIT_EXCEEDED';
  constructor(message: string, details: ErrorDetails = {}) {
    super('LIMIT_EXCEEDED', message, details);
    this.name = 'LimitError';
  }
}

/** An option or argument passed to the library is out of range or of the wrong kind. */
export class ArgumentError extends ArrowGpuError {
  declare readonly code: 'INVALID_ARGUMENT';
  constructor(message: string, details: ErrorDetails = {}) {
    super('INVALID_ARGUMENT', message, details);
    this.name = 'ArgumentError';
  }
}

/** A fault of the library itself (neither the input's nor the GPU's); `message` carries the original one. */
export class InternalError extends ArrowGpuError {
  declare readonly code: 'INTERNAL';
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super('INTERNAL', message, details, options);
    this.name = 'InternalError';
  }
}

/** The worker died or was terminated while a call was pending. */
export class WorkerFailedError extends ArrowGpuError {
  declare readonly code: 'WORKER_FAILED';
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
  const error = rebuild(data);
  if (data.stack) error.stack = data.stack;
  return error;
}

function rebuild({ code, message, details }: SerializedError): ArrowGpuError {
  switch (code) {
    case 'HTTP_STATUS':
      return new HttpStatusError(message, details);
    case 'NETWORK':
      return new NetworkError(message, details);
    case 'NOT_ARROW':
    case 'TRUNCATED':
    case 'CORRUPT':
      return new DecodeError(code, message, details);
    case 'UNSUPPORTED_TYPE':
      return new UnsupportedTypeError(message, details);
    case 'NO_SUCH_COLUMN':
    case 'SCHEMA_MISMATCH':
      return new ColumnError(code, message, details);
    case 'ABORTED':
      return new AbortError(message, details);
    case 'NO_WEBGPU':
    case 'DEVICE_LOST':
    case 'GPU_OUT_OF_MEMORY':
    case 'GPU_VALIDATION':
      return new GpuError(code, message, details);
    case 'LIMIT_EXCEEDED':
      return new LimitError(message, details);
    case 'INVALID_ARGUMENT':
      return new ArgumentError(message, details);
    case 'WORKER_FAILED':
      return new WorkerFailedError(message);
    default:
      return new InternalError(message, details);
  }
}

/**
 * Any thrown value as an `ArrowGpuError`: library errors pass through; anything else (a bug of ours, an
 * unexpected DOMException) becomes `INTERNAL` carrying the original message, never a decode error.
 */
export function asArrowGpuError(error: unknown, details: ErrorDetails = {}): ArrowGpuError {
  if (error instanceof ArrowGpuError) return error;
  const name = (error as Error)?.name;
  const text = String((error as Error)?.message ?? error);
  // Where it was thrown, so that a report of it can be traced: the stack does not cross the worker.
  const at = /\n\s*at ([^\n]+)/.exec(String((error as Error)?.stack ?? ''))?.[1];
  return new InternalError(
    `Internal error in arrow-webgpu: ${name && name !== 'Error' ? `${name}: ` : ''}${text}${at ? ` (at ${at})` : ''}`,
    details,
    { cause: error },
  );
}

/** Prints a byte count as MiB/KiB/bytes for error messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB (${bytes} bytes)`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB (${bytes} bytes)`;
  return `${bytes} bytes`;
}
