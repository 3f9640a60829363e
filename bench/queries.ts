// `npm run bench:node -- --queries [--rows 1000000,10000000] [--reps 7]`: describe, histogram and crossfilter
// brush updates on the GPU (Dawn in Node, through the worker's service object) against plain JavaScript
// loops over the same values, on synthetic tables made in memory (nothing is read from disk, so the
// packed bench runs it as is). Repetitions interleave the GPU and the CPU; medians are printed.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchStreamWriter, Table } from 'apache-arrow';
import { batchesOf, type DatasetSpec } from '../scripts/datasets.js';
import { LoaderService } from '../src/core/service/loader-service.js';
import type { AdapterSummary } from '../src/types.js';
import type { Values } from './query-baselines.js';
import {
  measureOperations,
  type OperationTiming,
  QUERY_COLUMNS,
  type QueryTarget,
  queryOperations,
  queryValues,
} from './query-operations.js';

/** What to run: row counts of the tables, repetitions of each measurement, where the JSON goes. */
export interface QueryBenchOptions {
  rows: number[];
  reps: number;
  out: string;
}

/** Median milliseconds of one operation on one table. */
type Row = OperationTiming & { rows: number };

const COLUMNS = QUERY_COLUMNS;

/** Runs every operation on a table of each row count and prints the medians. */
export async function runQueryBench(gpu: GPU, options: QueryBenchOptions): Promise<void> {
  const results: Row[] = [];
  let adapter: AdapterSummary | null = null;
  for (const rows of options.rows) {
    const t0 = performance.now();
    const { bytes, values } = makeTable(rows);
    console.log(
      `table of ${rows.toLocaleString()} rows: ${(bytes.byteLength / 2 ** 20).toFixed(0)} MiB of IPC, made in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const service = new LoaderService(gpu, async () => ({
      body: chunksOf(bytes),
      bytesTotal: bytes.byteLength,
    }));
    const info = await service.init({ upload: 'staging' });
    if (!adapter) console.log('adapter', info.vendor, info.architecture, info.description);
    adapter = info;
    const table = await service.load({ loadId: 1, url: 'memory://queries', encodings: { f64: 'f64' } });
    const { tableId } = table;
    const target: QueryTarget = {
      describe: (name) => service.describe(tableId, name),
      histogram: (name, bins) => service.histogram(tableId, name, bins),
      crossfilter: (crossfilter) => service.crossfilter(tableId, crossfilter),
    };
    const operations = await queryOperations(target, values, console.log);
    for (const row of await measureOperations(operations, options.reps)) {
      results.push({ rows, ...row });
      console.log(format({ rows, ...row }));
    }
    await service.close();
  }
  printTable(results);
  await mkdir(options.out, { recursive: true });
  const json = { date: new Date().toISOString(), adapter, reps: options.reps, results };
  await writeFile(join(options.out, 'node-queries.json'), `${JSON.stringify(json, null, 2)}\n`);
}

/** The synthetic table as IPC bytes, and each column's values as typed arrays (dictionary columns: codes). */
function makeTable(rows: number): { bytes: Uint8Array; values: Record<keyof typeof COLUMNS, Values> } {
  const spec: DatasetSpec = {
    rows,
    batchRows: 1 << 20,
    format: 'stream',
    columns: COLUMNS,
    distinct: { cat: 50 },
  };
  const table = new Table([...batchesOf(spec)]);
  const bytes = RecordBatchStreamWriter.writeAll(table).toUint8Array(true);
  return { bytes, values: queryValues(table) };
}

async function* chunksOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += 4 << 20) yield bytes.subarray(at, at + (4 << 20));
}

function format(row: Row): string {
  const ratio = row.jsMs / row.gpuMs;
  return `${row.rows.toLocaleString().padStart(11)}  ${row.operation.padEnd(36)} GPU ${row.gpuMs.toFixed(2).padStart(8)} ms   JS ${row.jsMs.toFixed(2).padStart(8)} ms   ${ratio.toFixed(1)}x`;
}

function printTable(rows: readonly Row[]): void {
  console.log(
    '\n| rows | operation | GPU median ms | JS median ms | JS / GPU |\n| ---: | --- | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    console.log(
      `| ${r.rows.toLocaleString()} | ${r.operation} | ${r.gpuMs.toFixed(2)} | ${r.jsMs.toFixed(2)} | ${(r.jsMs / r.gpuMs).toFixed(1)} |`,
    );
  }
}
