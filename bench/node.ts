// `npm run bench:node`: the pipeline core in Node with Dawn (the `webgpu` package), fed from a file
// stream, against the same ceilings, at 1 GiB by default. On a machine without a GPU, point Dawn at
// SwiftShader: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium
// `npm run bench:node -- --queries [--rows 1000000,10000000]`: the queries against JavaScript loops instead
// (bench/queries.ts); on SwiftShader keep it short with `--rows 100000`.
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RecordBatchReader } from 'apache-arrow';
import { create, globals } from 'webgpu';
import { ensureDataset, MIXED_COLUMNS } from '../scripts/datasets.js';
import { LoaderService } from '../src/core/service/loader-service.js';
import type { ByteSource } from '../src/core/source/byte-source.js';
import { nodeDecodeWorkers, tsxDecodeWorkers } from '../workers/node-decode-workers.js';
import { nodeFileSource } from '../workers/node-file-source.js';
import { sourceBytes, stagingCeiling, writeBufferCeiling } from './ceilings.js';
import { runCopyContentionBench } from './copy-contention.js';
import { runDecodeWorkersBench } from './decode-workers.js';
import { runQueryBench } from './queries.js';
import { printReport, type Sample, summarizeInput } from './report.js';
import { runRingReadsBench } from './ring-reads.js';
import { orderFor } from './run-order.js';
import type { RunResult, VariantId } from './variants.js';

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '1024' },
    reps: { type: 'string' },
    data: { type: 'string', default: 'bench/.data' },
    out: { type: 'string', default: 'bench/results' },
    variants: { type: 'string' },
    queries: { type: 'boolean', default: false },
    rows: { type: 'string', default: '1000000,10000000' },
    'decode-workers': { type: 'string' },
    // The file as a stream of 4 MiB chunks (bodies joined from them), as before BYOB reads: a baseline.
    'read-stream': { type: 'boolean', default: false },
    // With --decode-workers: each count also with the loader's thread reading the bodies.
    'compare-reads': { type: 'boolean', default: false },
    // Also loads with no words read from the file straight into staging memory.
    'compare-staging-reads': { type: 'boolean', default: false },
    // The staging ring beside threads that stream memory: 0,2,4,8 threads (see copy-contention.ts).
    'copy-contention': { type: 'string' },
    // The staging ring filled by file reads on libuv's threads: 1,2,4,8 pieces a slot (see ring-reads.ts).
    'ring-reads': { type: 'string' },
  },
});
const mib = Number(args.mib);
const reps = Number(args.reps ?? (args.queries ? 7 : 3));

Object.assign(globalThis, globals);
const gpu = create([]) as unknown as GPU;

if (args.queries) {
  const rows = args.rows.split(',').map(Number);
  await runQueryBench(gpu, { rows, reps, out: args.out });
  process.exit(0);
}

/** A device of the high-performance adapter with its largest buffers, for the lines that need only one. */
async function benchDevice(): Promise<GPUDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no adapter');
  console.log('adapter', adapter.info.description || adapter.info.vendor);
  return adapter.requestDevice({ requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize } });
}

if (args['copy-contention']) {
  const threads = args['copy-contention'].split(',').map(Number);
  const device = await benchDevice();
  await runCopyContentionBench({ device, source: sourceBytes(mib * 2 ** 20), threads, reps, out: args.out });
  process.exit(0);
}

const spec = {
  rows: Math.floor((mib * 2 ** 20) / 18),
  batchRows: 1 << 20,
  format: 'stream' as const,
  columns: { ...MIXED_COLUMNS },
};
const name = `node-${mib}mib-large-stream.arrow`;
const path = join(args.data, name);
console.log(`input ${path}: ${spec.rows.toLocaleString()} rows`);
await ensureDataset(path, spec);
const fileBytes = (await stat(path)).size;
const gpuBytes = spec.rows * 16;

if (args['ring-reads']) {
  const pieces = args['ring-reads'].split(',').map(Number);
  const device = await benchDevice();
  await runRingReadsBench({ device, path, bytes: gpuBytes, pieces, reps, out: args.out });
  process.exit(0);
}

// Decode workers run decode.node.ts: from source through tsx, or its bundle beside this one (pack-node-bench.sh).
const decodeWorkers = import.meta.url.endsWith('.mjs')
  ? nodeDecodeWorkers(new URL('./decode-node.mjs', import.meta.url), 0)
  : tsxDecodeWorkers(0);
// Staging buffers stay made between the loads, as the ring's do between its runs: the benchmark's own
// pauses (making the ring's source) would otherwise pass the idle time after which a loader frees them.
const service = new LoaderService(gpu, openFile, { decodeWorkers, idleTrimMs: 60_000 });

// The file is read at a position straight into each batch's pooled buffer (no join copy), or its bodies
// left to the decode workers to read (unless switched off, to compare).
let workersReadBodies = true;
// Words already in GPU form are read from the file straight into staging memory (unless switched off).
let readsIntoStaging = true;
async function openFile(url: string, signal: AbortSignal): Promise<ByteSource> {
  if (!args['read-stream']) {
    const source = await nodeFileSource(url, signal);
    const reads = readsIntoStaging ? source : { ...source, readAt: undefined };
    return workersReadBodies ? reads : { ...reads, bodyFile: undefined };
  }
  const body = createReadStream(url, { highWaterMark: 4 << 20 }) as AsyncIterable<Uint8Array>;
  return { body, bytesTotal: (await stat(url)).size };
}
const adapter = await service.init({ upload: 'staging' });
console.log('adapter', adapter);
const device = await (async () => {
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) throw new Error('no adapter');
  return a.requestDevice({ requiredLimits: { maxBufferSize: a.limits.maxBufferSize } });
})();

if (args['decode-workers']) {
  const counts = args['decode-workers'].split(',').map(Number);
  await runDecodeWorkersBench({
    service,
    device,
    path,
    fileBytes,
    gpuBytes,
    source: () => sourceBytes(gpuBytes),
    counts,
    reps,
    out: args.out,
    workersReadBodies: args['compare-reads']
      ? (on) => {
          workersReadBodies = on;
        }
      : undefined,
    readsIntoStaging: args['compare-staging-reads']
      ? (on) => {
          readsIntoStaging = on;
        }
      : undefined,
  });
  await service.close();
  process.exit(0);
}

const ceiling = (ms: number): RunResult => ({
  msTotal: ms,
  msToFirstBatch: null,
  msToFirstProgress: null,
  longTasks: 0,
  longestTaskMs: 0,
  fps: null,
});

async function run(variant: VariantId): Promise<RunResult> {
  switch (variant) {
    case 'ceil:read': {
      const t0 = performance.now();
      for await (const _ of createReadStream(path, { highWaterMark: 4 << 20 })) {
        // discard
      }
      return ceiling(performance.now() - t0);
    }
    case 'ceil:decode': {
      const bytes = await readFile(path);
      const t0 = performance.now();
      for (const _ of RecordBatchReader.from(bytes)) {
        // decode only
      }
      return ceiling(performance.now() - t0);
    }
    case 'ceil:writeBuffer':
      return ceiling(await writeBufferCeiling(device, source, gpuBytes));
    case 'ceil:staging':
      return ceiling(await stagingCeiling(device, source, gpuBytes));
    default: {
      const upload = variant === 'ours:staging' ? 'staging' : 'writeBuffer';
      const table = await service.load({ loadId: 1, url: path, upload });
      await service.destroyTable(table.tableId);
      const { stats } = table;
      return {
        msTotal: stats.msTotal,
        msToFirstBatch: stats.msToFirstBatch,
        msToFirstProgress: null,
        longTasks: 0,
        longestTaskMs: 0,
        fps: null,
        stages: stats.stages,
        maxUploadsInFlight: stats.maxUploadsInFlight,
        maxQueueDepth: stats.maxQueueDepth,
      };
    }
  }
}

const variants = (
  [
    'ceil:read',
    'ceil:decode',
    'ceil:writeBuffer',
    'ceil:staging',
    'ours:staging',
    'ours:writeBuffer',
  ] as VariantId[]
).filter((v) => !args.variants || args.variants.split(',').some((n) => v.includes(n)));
const source = variants.some((v) => v.startsWith('ceil:')) ? sourceBytes(gpuBytes) : new Uint8Array(0);
const samples: Sample[] = [];
await mkdir(args.out, { recursive: true });
for (let rep = 0; rep < reps; rep++) {
  for (const variant of orderFor(variants, rep)) {
    const result = await run(variant);
    samples.push({
      rep,
      variant,
      heapBytes: process.memoryUsage().heapUsed,
      heapAfterBytes: Number.NaN,
      ...result,
    });
    // Printed as it goes: a crash mid-run still leaves the figures so far.
    console.log(
      `rep ${rep} ${variant}: ${result.msTotal.toFixed(0)} ms, ${(fileBytes / 1e6 / (result.msTotal / 1000)).toFixed(0)} MB/s`,
    );
    await writeFile(join(args.out, 'node-samples.json'), JSON.stringify(samples));
  }
}
const report = summarizeInput({ name, spec, gpuBytes }, fileBytes, samples, variants);
printReport(report);
await writeFile(
  join(args.out, 'node-latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), adapter, reps, report }, null, 2)}\n`,
);
await service.close();
process.exit(0);
