// `npm run bench:node -- --queries [--rows 1000000,10000000] [--reps 7]`: describe, histogram and crossfilter
// brush updates on the GPU (Dawn in Node, through the worker's service object) against plain JavaScript
// loops over the same values, on synthetic tables made in memory (nothing is read from disk, so the
// packed bench runs it as is). Repetitions interleave the GPU and the CPU; medians are printed.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchStreamWriter, Table, type Vector } from 'apache-arrow';
import { batchesOf, type DatasetSpec } from '../scripts/datasets.js';
import { LoaderService } from '../src/core/service/loader-service.js';
import type { AdapterSummary } from '../src/types.js';
import {
  type JsDim,
  jsBinCodes,
  jsCrossfilter,
  jsDescribe,
  jsHistogram,
  type Values,
} from './query-baselines.js';
import { summarize } from './stats.js';

/** What to run: row counts of the tables, repetitions of each measurement, where the JSON goes. */
export interface QueryBenchOptions {
  rows: number[];
  reps: number;
  out: string;
}

/** One measured operation: the GPU call and the CPU loop that computes the same thing. */
interface Operation {
  name: string;
  gpu: () => Promise<unknown>;
  js: () => unknown;
}

/** Median milliseconds of one operation on one table. */
interface Row {
  rows: number;
  operation: string;
  gpuMs: number;
  jsMs: number;
  reps: number;
}

const COLUMNS = { f32: 'f32', f64: 'f64', i32: 'i32', cat: 'dict-utf8' } as const;

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
    const operations = await operationsOf(service, table.tableId, values);
    for (const row of await measure(operations, options.reps)) {
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
  const column = (name: keyof typeof COLUMNS): Values => {
    const vector = table.getChild(name) as Vector;
    const parts = vector.data.map((d) => d.values as Values);
    const out = new ((parts[0] as Values).constructor as new (n: number) => Values)(rows);
    let at = 0;
    for (const part of parts) {
      out.set(part as never, at);
      at += part.length;
    }
    return out;
  };
  return {
    bytes,
    values: { f32: column('f32'), f64: column('f64'), i32: column('i32'), cat: column('cat') },
  };
}

async function* chunksOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += 4 << 20) yield bytes.subarray(at, at + (4 << 20));
}

/** describe and histogram of each column, and crossfilter brush moves over f32 × i32 × cat. */
async function operationsOf(
  service: LoaderService,
  tableId: number,
  values: Record<keyof typeof COLUMNS, Values>,
): Promise<Operation[]> {
  const operations: Operation[] = [];
  const extent = (name: keyof typeof COLUMNS) => {
    const { min, max } = jsDescribe(values[name]);
    return { min, max };
  };
  for (const name of Object.keys(COLUMNS) as Array<keyof typeof COLUMNS>) {
    operations.push({
      name: `describe(${name})`,
      gpu: () => service.describe(tableId, name),
      js: () => jsDescribe(values[name]),
    });
  }
  for (const name of ['f32', 'f64', 'i32'] as const) {
    const { min, max } = extent(name);
    operations.push({
      name: `histogram(${name}, 64 bins, range given)`,
      gpu: () => service.histogram(tableId, name, { bins: 64, min, max }),
      js: () => jsHistogram(values[name], 64, min, max),
    });
    operations.push({
      name: `histogram(${name}, 64 bins, range found)`,
      gpu: () => service.histogram(tableId, name, { bins: 64 }),
      js: () => {
        const found = jsDescribe(values[name]);
        return jsHistogram(values[name], 64, found.min, found.max);
      },
    });
  }
  operations.push(await crossfilterOperation(service, tableId, values, extent));
  return operations;
}

/** A brush on f32 that moves on every update, across 7 positions, with i32 and cat brushed still. */
async function crossfilterOperation(
  service: LoaderService,
  tableId: number,
  values: Record<keyof typeof COLUMNS, Values>,
  extent: (name: keyof typeof COLUMNS) => { min: number; max: number },
): Promise<Operation> {
  const dims = { f32: { bins: 64 }, i32: { bins: 64 }, cat: {} };
  const f32 = extent('f32');
  const i32 = extent('i32');
  const cat = extent('cat');
  const width = (f32.max - f32.min) / 4;
  const brushAt = (k: number): [number, number] => {
    const lo = f32.min + ((k % 7) / 7) * (f32.max - f32.min - width);
    return [lo, lo + width];
  };
  const fixed = { i32: [i32.min / 2, i32.max / 2] as [number, number], cat: [0, 10] as [number, number] };
  const t0 = performance.now();
  await service.crossfilter(tableId, { dims, brush: { f32: brushAt(0), ...fixed } });
  const jsDims: JsDim[] = [
    {
      values: values.f32,
      codes: jsBinCodes(values.f32, 64, f32.min, f32.max),
      bins: 64,
      brush: null,
      inside: null,
    },
    {
      values: values.i32,
      codes: jsBinCodes(values.i32, 64, i32.min, i32.max),
      bins: 64,
      brush: fixed.i32,
      inside: null,
    },
    {
      values: values.cat,
      codes: jsBinCodes(values.cat, cat.max + 1, 0, cat.max + 1),
      bins: cat.max + 1,
      brush: fixed.cat,
      inside: null,
    },
  ];
  console.log(
    `crossfilter set-up (bin codes of 3 dimensions, kernels compiled): ${(performance.now() - t0).toFixed(1)} ms`,
  );
  let gpuMoves = 0;
  let jsMoves = 0;
  return {
    name: 'crossfilter brush move (3 dims)',
    gpu: () => service.crossfilter(tableId, { dims, brush: { f32: brushAt(++gpuMoves), ...fixed } }),
    js: () => {
      (jsDims[0] as JsDim).brush = brushAt(++jsMoves);
      return jsCrossfilter(jsDims);
    },
  };
}

/** Warms each operation once, then `reps` rounds, GPU and CPU in alternating order. */
async function measure(operations: readonly Operation[], reps: number): Promise<Array<Omit<Row, 'rows'>>> {
  const samples = operations.map(() => ({ gpu: [] as number[], js: [] as number[] }));
  for (const op of operations) {
    await op.gpu();
    op.js();
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const [k, op] of operations.entries()) {
      const sample = samples[k] as { gpu: number[]; js: number[] };
      const runGpu = async () => {
        const t = performance.now();
        await op.gpu();
        sample.gpu.push(performance.now() - t);
      };
      const runJs = () => {
        const t = performance.now();
        op.js();
        sample.js.push(performance.now() - t);
      };
      if (rep % 2 === 0) {
        await runGpu();
        runJs();
      } else {
        runJs();
        await runGpu();
      }
    }
  }
  return operations.map((op, k) => {
    const { gpu, js } = samples[k] as { gpu: number[]; js: number[] };
    return { operation: op.name, gpuMs: summarize(gpu)?.median ?? 0, jsMs: summarize(js)?.median ?? 0, reps };
  });
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
