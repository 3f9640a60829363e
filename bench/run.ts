// `npm run bench`: every variant on every input, interleaved and repeated, in headless Chromium.
// `npm run bench:smoke`: one tiny input, one repetition, results checked and not written.
// Flags: --inputs a,b and --variants a,b keep the inputs and variants whose names contain one of the
// substrings (`--inputs dashboard`); --reps n; --out name writes bench/results/<name>.{json,html,md}
// instead of latest.* (so that a partial run keeps the full run's results); --no-heap samples no heap
// (sampling a worker every 5 ms takes some of its time); --settle-ms n waits n ms before each run, so
// that none starts while the last one's buffers are still being freed; the garbage of a naive variant is
// collected before the next one (--leave-garbage: not). The live-stream line runs
// after the inputs: --live-only runs it alone, --skip-live leaves it out. The query line (describe,
// histogram, crossfilter against JS loops, bench/query-line.ts) runs between them; its inputs answer to
// --inputs as well (`--inputs queries --skip-live` runs it alone). BENCH_PORT moves the server;
// BENCH_CHROMIUM_ARGS replaces the browser's flags (see chromium-gpu.sh). --profile adds one run of each
// of the page's own loaders with the CPU of the loader's worker profiled (<out>-profile.md).
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { type ProfileSummary, profileDuring, profileMarkdown } from './cpu-profile.js';
import { HeapSampler } from './heap-sampler.js';
import {
  BENCH_DATA_DIR,
  BENCH_PORT,
  type BenchInput,
  ensureInputs,
  FULL_INPUTS,
  SMOKE_INPUTS,
} from './inputs.js';
import { LIVE_INPUT, LIVE_SMOKE_INPUT, type LiveReport, liveMarkdown, runLive } from './live.js';
import {
  QUERY_INPUTS,
  QUERY_SMOKE_INPUT,
  QUERY_SMOKE_OPERATIONS,
  type QueryTableReport,
  queryFailures,
  queryMarkdown,
  runQueryLine,
} from './query-line.js';
import {
  type InputReport,
  printReport,
  type Sample,
  summarizeInput,
  targets,
  toMarkdown,
  writeChart,
} from './report.js';
import { orderApart } from './run-order.js';
import { heapTarget, type RunResult, VARIANTS, type VariantId } from './variants.js';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    reps: { type: 'string' },
    inputs: { type: 'string' },
    variants: { type: 'string' },
    out: { type: 'string', default: 'latest' },
    'live-only': { type: 'boolean', default: false },
    'skip-live': { type: 'boolean', default: false },
    'no-heap': { type: 'boolean', default: false },
    'leave-garbage': { type: 'boolean', default: false },
    'settle-ms': { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
  },
});
if (!/^[\w.-]+$/.test(args.out)) throw new Error(`--out ${args.out}: a file name without a folder`);

const picked = (i: BenchInput) => !args.inputs || args.inputs.split(',').some((n) => i.name.includes(n));
const inputs = args['live-only'] ? [] : args.smoke ? SMOKE_INPUTS : FULL_INPUTS.filter(picked);
const queryInputs = args['live-only'] ? [] : args.smoke ? [QUERY_SMOKE_INPUT] : QUERY_INPUTS.filter(picked);
const liveInput = args['skip-live'] ? null : args.smoke ? LIVE_SMOKE_INPUT : LIVE_INPUT;
const variants = (Object.keys(VARIANTS) as VariantId[]).filter(
  (v) => !args.variants || args.variants.split(',').some((n) => v.includes(n)),
);
const reps = Number(args.reps ?? (args.smoke ? 1 : 5));

if (!existsSync('dist/index.js')) throw new Error('dist/index.js is missing: run `npm run build` first');
await ensureInputs([...inputs, ...queryInputs, ...(liveInput ? [liveInput] : [])]);

const server = await createServer({ configFile: 'bench/vite.config.ts' });
await server.listen();
const browserArgs = chromiumArgs();
const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  args: browserArgs,
  // Flags of one's own without --headless=new run a window (an X server's: a real GPU's Vulkan needs one).
  headless: browserArgs.some((a) => a.startsWith('--headless')),
});
const reports: InputReport[] = [];
const profiles: string[] = [];
try {
  const page = await browser.newPage();
  const sampler = await HeapSampler.attach(page);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`http://localhost:${BENCH_PORT}/bench/bench.html`);
  await page.evaluate(() => window.benchReady);
  await sampler.refresh();
  const version = browser.version();

  for (const input of inputs) {
    const fileBytes = (await stat(join(BENCH_DATA_DIR, input.name))).size;
    const samples: Sample[] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of orderApart(variants, rep, isNaive)) {
        samples.push({ rep, variant, ...(await runOnce(page, sampler, variant, input)) });
        process.stdout.write('.');
      }
    }
    process.stdout.write('\n');
    if (args.profile) profiles.push(...(await profileInput(page, sampler, input)));
    const report = summarizeInput(input, fileBytes, samples, variants);
    reports.push(report);
    printReport(report);
  }
  const queries: QueryTableReport[] = await runQueryLine(
    page,
    queryInputs,
    reps,
    args.smoke ? QUERY_SMOKE_OPERATIONS : undefined,
  );
  let live: LiveReport | null = null;
  if (liveInput) {
    live = await runLive(page, liveInput, reps);
    console.log(`\n${liveMarkdown(live)}`);
  }
  if (pageErrors.length) throw new Error(`errors in the benchmark page: ${pageErrors.join('; ')}`);

  const summary = targets(reports);
  const result = {
    date: new Date().toISOString(),
    machine: `${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores`,
    browser: `Chromium ${version}`,
    browserArgs,
    adapter: await page.evaluate(() => window.benchAdapter ?? null),
    reps,
    inputs: reports,
    targets: summary,
    queries,
    live,
  };
  if (args.smoke) {
    const failed = [...smokeFailures(reports), ...queryFailures(queries)];
    if (live && !(live.batchMs && Number.isFinite(live.batchMs.median)))
      failed.push('live stream: no batch time');
    const dir = join(tmpdir(), 'arrow-webgpu-bench-smoke');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'latest.json'), JSON.stringify(result, null, 2));
    await writeChart(join(dir, 'latest.html'), result);
    for (const f of failed) console.error(`FAILED: ${f}`);
    const checks =
      reports.length * variants.length + queries.reduce((n, q) => n + q.timings.length, 0) + (live ? 1 : 0);
    console.log(`bench smoke: ${checks - failed.length} passed, ${failed.length} failed`);
    if (failed.length) process.exitCode = 1;
  } else {
    console.log(JSON.stringify(summary, null, 2));
    await mkdir('bench/results', { recursive: true });
    const out = join('bench/results', args.out);
    await writeFile(`${out}.json`, `${JSON.stringify(result, null, 2)}\n`);
    await writeChart(`${out}.html`, result);
    const extra = [queries.length ? queryMarkdown(queries) : '', live ? liveMarkdown(live) : ''];
    await writeFile(`${out}.md`, [toMarkdown(result), ...extra.filter(Boolean)].join('\n'));
    console.log(`wrote ${out}.json, ${out}.html and ${out}.md`);
    if (profiles.length) {
      await writeFile(`${out}-profile.md`, profiles.join('\n'));
      console.log(`wrote ${out}-profile.md`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}

/**
 * `--profile`: one more run of each of the page's own loaders (not counted in the timings), with the CPU
 * of the page and of the loaders', read and decode workers profiled; the busy threads' summaries.
 */
async function profileInput(
  page: import('@playwright/test').Page,
  sampler: HeapSampler,
  input: BenchInput,
): Promise<string[]> {
  const out: string[] = [];
  // The page's own loaders: every thread is profiled, so the page's device's loader is too.
  const profiled = (v: VariantId) => heapTarget(v) === 'loader-worker' || v === 'ours:device';
  for (const variant of variants.filter(profiled)) {
    const url = `/bench-data/${input.name}`;
    const { result, summaries } = await profileDuring(
      sampler,
      ['loader.worker', 'read.worker', 'decode'],
      () =>
        page.evaluate(({ variant, url, gpuBytes }) => window.bench.run(variant, url, gpuBytes), {
          variant,
          url,
          gpuBytes: input.gpuBytes,
        }),
    );
    const title = `${input.name}, ${variant} (${result.msTotal.toFixed(0)} ms profiled)`;
    // Threads that did next to nothing (another loader's worker, an idle page) are left out.
    const busy = summaries.filter((s: ProfileSummary) => s.ms - s.idleMs >= 5);
    out.push(...busy.map((summary: ProfileSummary) => profileMarkdown(title, summary)));
    process.stdout.write('p');
  }
  return out;
}

async function runOnce(
  page: import('@playwright/test').Page,
  sampler: HeapSampler,
  variant: VariantId,
  input: BenchInput,
): Promise<
  RunResult & { heapBytes: number; heapBuffersBytes: number; heapAfterBytes: number; heapSamples?: number }
> {
  const target = heapTarget(variant);
  const worker =
    target === 'page' || target === null
      ? null
      : target === 'loader-worker'
        ? 'loader.worker'
        : 'bench.worker';
  // A run whose heap is sampled starts from collected heaps (the previous run's garbage, hundreds of MiB
  // after the naive path, is not counted in this one's peak). A timed run (`--no-heap`) forces none: the
  // warm loader's load right after a collection forced through DevTools was slower (first batch 183
  // against 125 ms, total 1315 against 903 ms, 256 MiB of 4 MiB batches), as if its code ran cold.
  if (!args['no-heap'])
    for (const context of [null, 'loader.worker', 'bench.worker']) await sampler.collectGarbage(context);
  // The previous run's work (a GPU process freeing hundreds of MiB) may still be under way.
  await new Promise((resolve) => setTimeout(resolve, Number(args['settle-ms'])));
  const url = `/bench-data/${input.name}`;
  const work = page.evaluate(({ variant, url, gpuBytes }) => window.bench.run(variant, url, gpuBytes), {
    variant,
    url,
    gpuBytes: input.gpuBytes,
  });
  if (target === null || args['no-heap']) {
    const result = await work;
    await collectNaiveGarbage(sampler, variant);
    return { ...result, heapBytes: Number.NaN, heapBuffersBytes: Number.NaN, heapAfterBytes: Number.NaN };
  }
  const { result, peak, peakBuffers, samples } = await sampler.peakDuring(worker, work);
  // What the load left behind, apart from garbage not yet collected (which the peak includes).
  await sampler.collectGarbage(worker);
  const heapAfterBytes = await sampler.usage(worker);
  return { ...result, heapBytes: peak, heapBuffersBytes: peakBuffers, heapAfterBytes, heapSamples: samples };
}

/** One of the naive paths (run after the others in each repetition: `orderApart`). */
function isNaive(variant: VariantId): boolean {
  return variant.startsWith('naive:');
}

/**
 * After a naive variant, collects the garbage it left where it ran (the page, or the benchmark's worker):
 * the file, its decoded table and its columns, hundreds of MiB. Left there, it is collected during
 * whichever variant follows, whose time it is no part of (nor of the naive path's, timed to its last
 * `writeBuffer`). `--leave-garbage` skips it.
 */
async function collectNaiveGarbage(sampler: HeapSampler, variant: VariantId): Promise<void> {
  if (args['leave-garbage'] || !isNaive(variant)) return;
  await sampler.collectGarbage(variant === 'naive:worker' ? 'bench.worker' : null);
}

/**
 * The browser's flags: SwiftShader's (CHROMIUM_ARGS), or BENCH_CHROMIUM_ARGS in their place, e.g. for a
 * real GPU on Linux under an X server (`bench/chromium-gpu.sh`).
 */
function chromiumArgs(): string[] {
  const own = process.env.BENCH_CHROMIUM_ARGS?.trim();
  return own ? own.split(/\s+/) : CHROMIUM_ARGS;
}

/** What makes a smoke run red: a variant without a finite time, or a bound broken. */
function smokeFailures(reports: InputReport[]): string[] {
  const failed: string[] = [];
  for (const report of reports) {
    for (const [variant, v] of Object.entries(report.variants)) {
      if (!(v.msTotal.median > 0 && Number.isFinite(v.msTotal.median)))
        failed.push(`${report.input} ${variant}: no time`);
      if (variant.startsWith('ours:') && !((v.maxUploadsInFlight ?? 3) <= 2 && (v.maxQueueDepth ?? 3) <= 2)) {
        failed.push(`${report.input} ${variant}: more than 2 staging buffers or queued batches`);
      }
    }
  }
  return failed;
}
