export type { InspectOptions, Loader, LoaderOptions, LoadOptions } from './client/create-loader.js';
export { createLoader } from './client/create-loader.js';
export type { ColumnArray } from './client/gpu-table.js';
export { GpuTable } from './client/gpu-table.js';
export type { ErrorCode, ErrorDetails } from './core/errors.js';
export {
  AbortError,
  ArgumentError,
  ArrowGpuError,
  ColumnError,
  DecodeError,
  GpuError,
  HttpStatusError,
  InternalError,
  LimitError,
  NetworkError,
  UnsupportedTypeError,
  WorkerFailedError,
} from './core/errors.js';
export type {
  AdapterSummary,
  ColumnInfo,
  ColumnSummary,
  DictionaryValue,
  Encoding,
  EncodingRequest,
  GpuType,
  LoadProgress,
  LoadStats,
  MemoryInfo,
  ReadRowsOptions,
  SchemaColumn,
  SkippedColumn,
  StageTimes,
  TableSchema,
  TableWgsl,
  UploadStrategy,
  WgslBinding,
  WgslColumn,
  WgslOptions,
} from './types.js';
