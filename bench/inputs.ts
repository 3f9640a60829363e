import { join } from 'node:path';
import {
  arrowBytesPerRow,
  type ColumnKind,
  type DatasetSpec,
  ensureDataset,
  MIXED_COLUMNS,
} from '../scripts/datasets.js';

/** Where benchmark inputs are generated; served under /bench-data/. */
export const BENCH_DATA_DIR = join(import.meta.dirname, '.data');

/** The benchmark server's port (`BENCH_PORT`, default 4174), so that checkouts can run it side by side. */
export const BENCH_PORT = Number(process.env.BENCH_PORT ?? 4174);

/** One benchmark input. */
export interface BenchInput {
  name: string;
  spec: DatasetSpec;
  /** Bytes the pipeline uploads in its default encodings, validity words of columns with nulls included. */
  gpuBytes: number;
}

/** Bytes the pipeline uploads for `spec` in the default encodings (README, "Types on the GPU"). */
export function gpuBytesOf(spec: DatasetSpec): number {
  const words = (n: number) => Math.ceil(n / 32) * 4; // one bit a row, in 32-bit words
  const perRow: Record<Exclude<ColumnKind, 'bool'>, number> = {
    f32: 4,
    f64: 4, // f32 by default
    i32: 4,
    u32: 4,
    i16: 4,
    u16: 4,
    i8: 4,
    u8: 4,
    i64: 8, // lo, hi
    'ts-ms': 8,
    utf8: 4, // u32 codes into the table-wide dictionary
    'dict-utf8': 4,
  };
  return Object.entries(spec.columns).reduce(
    (n, [name, kind]) =>
      n +
      (kind === 'bool' ? words(spec.rows) : spec.rows * perRow[kind]) +
      ((spec.nulls?.[name] ?? 0) > 0 ? words(spec.rows) : 0),
    0,
  );
}

/**
 * A typical dashboard table: Float64 price, Int64 id, Timestamp(ms) ts, Bool flag, Dictionary<Int32, Utf8>
 * category (40 values), Utf8 name (4,000 values), Int32 qty, Float32 score; nulls in five columns. About
 * 53 bytes a row in Arrow.
 */
export const DASHBOARD_COLUMNS: Record<string, ColumnKind> = {
  price: 'f64',
  id: 'i64',
  ts: 'ts-ms',
  flag: 'bool',
  category: 'dict-utf8',
  name: 'utf8',
  qty: 'i32',
  score: 'f32',
};

function dashboard(name: string, rows: number, batchRows: number): BenchInput {
  const spec: DatasetSpec = {
    rows,
    batchRows,
    format: 'stream',
    columns: { ...DASHBOARD_COLUMNS },
    nulls: { price: 0.02, flag: 0.01, category: 0.03, name: 0.05, qty: 0.01 },
    distinct: { category: 40, name: 4000 },
  };
  return { name, spec, gpuBytes: gpuBytesOf(spec) };
}

const ROW_BYTES = arrowBytesPerRow(MIXED_COLUMNS); // 18
const SMALL_BATCH_ROWS = 16_384; // ≈ 64 KiB per 32-bit column
const LARGE_BATCH_ROWS = 1 << 20; // ≈ 4 MiB per 32-bit column

function input(mib: number, batch: 'small' | 'large', format: 'stream' | 'file', nulls = false): BenchInput {
  const rows = Math.floor((mib << 20) / ROW_BYTES);
  const spec: DatasetSpec = {
    rows,
    batchRows: batch === 'small' ? SMALL_BATCH_ROWS : LARGE_BATCH_ROWS,
    format,
    columns: { ...MIXED_COLUMNS },
    ...(nulls ? { nulls: { y: 0.05 } } : {}),
  };
  const validityBytes = nulls ? Math.ceil(rows / 32) * 4 : 0;
  const name = `${mib}mib-${batch}-${format}${nulls ? '-nulls' : ''}.arrow`;
  return { name, spec, gpuBytes: rows * 4 * Object.keys(MIXED_COLUMNS).length + validityBytes };
}

/** Names of the small-file inputs start with this. */
export const SMALL_FILE_PREFIX = 'file-1.6mb';

/**
 * A small file as dashboards load many of: 200,000 rows of three columns (f32, u16, u16: 8 bytes a row,
 * 1.6 MB), in one record batch as most writers make it.
 */
const SMALL_FILE: BenchInput = {
  name: `${SMALL_FILE_PREFIX}-200k.arrow`,
  spec: {
    rows: 200_000,
    batchRows: 200_000,
    format: 'stream',
    columns: { value: 'f32', hour: 'u16', kind: 'u16' },
  },
  gpuBytes: 200_000 * 12,
};

/** The full benchmark: 64 and 256 MiB, small and large batches, stream and file, one with nulls; a small file. */
export const FULL_INPUTS: BenchInput[] = [
  SMALL_FILE,
  input(64, 'small', 'stream'),
  input(64, 'large', 'stream'),
  input(256, 'small', 'stream'),
  input(256, 'large', 'stream'),
  input(256, 'large', 'file'),
  input(256, 'small', 'stream', true),
  // 80 batches of 64 Ki rows: 267 MiB.
  dashboard('dashboard-256mib-stream.arrow', 80 << 16, 1 << 16),
];

/** The smoke run inside `npm test`: two tiny inputs, the mixed numeric columns and the dashboard table. */
export const SMOKE_INPUTS: BenchInput[] = [
  {
    name: 'smoke-2mib.arrow',
    spec: {
      rows: 131_072,
      batchRows: 16_384,
      format: 'stream',
      columns: { ...MIXED_COLUMNS },
      nulls: { y: 0.05 },
    },
    gpuBytes: 131_072 * 16 + 4096 * 4,
  },
  dashboard('smoke-dashboard-2mib.arrow', 1 << 15, 1 << 13),
];

/** Generates the inputs that are missing. */
export async function ensureInputs(inputs: readonly BenchInput[]): Promise<void> {
  for (const { name, spec } of inputs) {
    if (await ensureDataset(join(BENCH_DATA_DIR, name), spec)) console.log(`generated ${name}`);
  }
}
