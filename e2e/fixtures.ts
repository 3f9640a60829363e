import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { type DatasetSpec, ensureDataset, MIXED_COLUMNS } from '../scripts/datasets.js';
import { everyTypeTable, withListTable } from '../test/support/every-type.js';
import { moreTypesTable } from '../test/support/more-types.js';
import { runEndIpc } from '../test/support/run-end-ipc.js';
import { runEndTables } from '../test/support/run-end-table.js';

/** Where generated fixtures live; served under /data/. */
export const FIXTURE_DIR = join(import.meta.dirname, '.fixtures');

const ALL_NUMERIC = {
  f32: 'f32',
  f64: 'f64',
  i8: 'i8',
  u8: 'u8',
  i16: 'i16',
  u16: 'u16',
  i32: 'i32',
  u32: 'u32',
} as const;

/** Every fixture the browser tests load, by file name. */
export const FIXTURES = {
  // One batch of an odd row count: byte lengths of 8- and 16-bit columns are not multiples of 4.
  'one-batch.stream': {
    rows: 1001,
    batchRows: 1001,
    format: 'stream',
    columns: { ...ALL_NUMERIC },
    nulls: { f64: 0.1, i8: 0.3 },
  },
  'one-batch.arrow': {
    rows: 1001,
    batchRows: 1001,
    format: 'file',
    columns: { ...ALL_NUMERIC },
    nulls: { f64: 0.1, i8: 0.3 },
  },
  // 61 batches whose sizes are not multiples of 32 rows, so validity words straddle batches.
  'many-batches.stream': {
    rows: 60_007,
    batchRows: 1000,
    format: 'stream',
    columns: { ...ALL_NUMERIC },
    nulls: { u16: 0.05, f32: 0.5 },
  },
  'many-batches.arrow': {
    rows: 60_007,
    batchRows: 1000,
    format: 'file',
    columns: { ...ALL_NUMERIC },
    nulls: { u16: 0.05, f32: 0.5 },
  },
  // A string column next to numeric ones: loadable only with a `columns` projection.
  'with-strings.stream': {
    rows: 5000,
    batchRows: 999,
    format: 'stream',
    columns: { a: 'i32', s: 'utf8', b: 'f64' },
  },
  // 16 MiB: the same batches as big-128, an eighth as many (the bounded-memory test compares the two).
  'big-16.stream': {
    rows: Math.ceil((16 << 20) / 18),
    batchRows: 131_072,
    format: 'stream',
    columns: { ...MIXED_COLUMNS },
  },
  // 40 MiB in about 1,300 batches of ~32 KB, with a dictionary: the read worker's chunks each hold many
  // batches (and the dictionary), and go back to it as the load is done with them, while it still reads
  // (it holds at most 16 MiB ahead), so that later bytes are read into them.
  'small-batches.stream': {
    rows: Math.ceil((40 << 20) / 22),
    batchRows: 1467,
    format: 'stream',
    columns: { ...MIXED_COLUMNS, label: 'dict-utf8' },
    nulls: { x: 0.1 },
  },
  // 128 MiB in 57 batches of ~2.3 MB.
  'big-128.stream': {
    rows: Math.ceil((128 << 20) / 18),
    batchRows: 131_072,
    format: 'stream',
    columns: { ...MIXED_COLUMNS },
  },
} satisfies Record<string, DatasetSpec>;

/** A fixture's file name. */
export type FixtureName = keyof typeof FIXTURES;

/** Writes every fixture that is missing. */
export async function ensureFixtures(): Promise<void> {
  for (const [name, spec] of Object.entries(FIXTURES)) {
    await ensureDataset(join(FIXTURE_DIR, name), spec as DatasetSpec);
  }
}

/**
 * Writes `every-type.stream` and `every-type.arrow` (a column for every GPU encoding), `with-list.stream`,
 * `more-types.stream` (the shapes every-type lacks: MONTH_DAY_NANO intervals, 256-bit decimals…) and
 * `run-end.stream` and `run-end.arrow` (RunEndEncoded columns of every kind of value the library expands).
 */
export async function ensureEveryTypeFixtures(): Promise<void> {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const withList = join(FIXTURE_DIR, 'with-list.stream');
  if (!existsSync(withList)) writeFileSync(withList, tableToIPC(withListTable(), 'stream'));
  for (const [name, format] of [
    ['every-type.stream', 'stream'],
    ['every-type.arrow', 'file'],
  ] as const) {
    const path = join(FIXTURE_DIR, name);
    if (!existsSync(path)) writeFileSync(path, tableToIPC(everyTypeTable(format), format));
  }
  // Small and cheap to make: rewritten whenever their generator changes what they hold.
  writeIfChanged('more-types.stream', tableToIPC(moreTypesTable(), 'stream'));
  const { ree, paths } = runEndTables();
  writeIfChanged('run-end.stream', runEndIpc(ree, paths, 'stream'));
  writeIfChanged('run-end.arrow', runEndIpc(ree, paths, 'file'));
}

/** Writes a fixture unless it already holds `bytes`. */
function writeIfChanged(name: string, bytes: Uint8Array): void {
  const path = join(FIXTURE_DIR, name);
  if (existsSync(path) && Buffer.from(bytes).equals(readFileSync(path))) return;
  writeFileSync(path, bytes);
}
