import { join } from 'node:path';
import { arrowBytesPerRow, type DatasetSpec, ensureDataset, MIXED_COLUMNS } from '../scripts/datasets.js';

/** Where benchmark inputs are generated; served under /bench-data/. */
export const BENCH_DATA_DIR = join(import.meta.dirname, '.data');

/** One benchmark input. */
export interface BenchInput {
  name: string;
  spec: DatasetSpec;
  /** Bytes the pipeline uploads: 4 per value, plus validity words of columns with nulls. */
  gpuBytes: number;
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

/** The full benchmark: 64 and 256 MiB, small and large batches, stream and file, one with nulls. */
export const FULL_INPUTS: BenchInput[] = [
  input(64, 'small', 'stream'),
  input(64, 'large', 'stream'),
  input(256, 'small', 'stream'),
  input(256, 'large', 'stream'),
  input(256, 'large', 'file'),
  input(256, 'small', 'stream', true),
];

/** The smoke run inside `npm test`: one tiny input. */
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
];

/** Generates the inputs that are missing. */
export async function ensureInputs(inputs: readonly BenchInput[]): Promise<void> {
  for (const { name, spec } of inputs) {
    if (await ensureDataset(join(BENCH_DATA_DIR, name), spec)) console.log(`generated ${name}`);
  }
}
