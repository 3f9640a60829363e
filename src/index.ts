export type {
  DeviceLoader,
  InspectOptions,
  Loader,
  LoaderOptions,
  LoadOptions,
  OpenOptions,
  RenderOptions,
} from './client/create-loader.js';
export { createLoader } from './client/create-loader.js';
export { DeviceTable } from './client/device-table.js';
export type { QueryOptions } from './client/gpu-filter.js';
export { GpuFilter } from './client/gpu-filter.js';
export type { ColumnArray } from './client/gpu-table.js';
export { GpuTable } from './client/gpu-table.js';
export type { RenderUpdate } from './client/render-view.js';
export { RenderView } from './client/render-view.js';
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
  ColumnBuffer,
  ColumnBuffers,
  ColumnChunkInfo,
  ColumnInfo,
  ColumnSummary,
  CrossfilterBrush,
  CrossfilterOptions,
  CrossfilterResult,
  DeviceColumnInfo,
  DictionaryValue,
  Encoding,
  EncodingRequest,
  FilterMode,
  GpuType,
  Histogram,
  HistogramOptions,
  LoadProgress,
  LoadSource,
  LoadStats,
  MemoryInfo,
  Predicate,
  PredicateValue,
  Range,
  ReadRowsOptions,
  RenderDomain,
  RenderSettings,
  RenderShader,
  RenderState,
  RequestBody,
  RequestOptions,
  SchemaColumn,
  ShaderTopology,
  SkippedColumn,
  StageTimes,
  TableSchema,
  TableWgsl,
  UploadStrategy,
  WgslBinding,
  WgslColumn,
  WgslOptions,
} from './types.js';
