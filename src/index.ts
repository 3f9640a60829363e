export type {
  InspectOptions,
  Loader,
  LoaderOptions,
  LoadOptions,
  OpenOptions,
} from './client/create-loader.js';
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
  BatchLanded,
  ColumnChunkInfo,
  ColumnInfo,
  ColumnSummary,
  DictionaryValue,
  Encoding,
  EncodingRequest,
  GpuType,
  LoadProgress,
  LoadStats,
  MemoryInfo,
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
