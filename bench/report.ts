import { writeFile } from 'node:fs/promises';
import { type BenchInput, SMALL_FILE_PREFIX } from './inputs.js';
import { type Summary, summarize } from './stats.js';
import { type RunResult, VARIANTS, type VariantId } from './variants.js';

/**
 * One run of one variant, with the peak heap of where it ran and that heap once the run ended and a
 * collection ran (what the load left behind; `NaN` where not sampled).
 */
export type Sample = RunResult & {
  rep: number;
  variant: VariantId;
  heapBytes: number;
  /** The ArrayBuffers' part of `heapBytes` (the rest is the JS heap); absent from runs that sample none. */
  heapBuffersBytes?: number;
  /** Heap samples the worker answered while the run went on (see `HeapSampler.peakDuring`). */
  heapSamples?: number;
  heapAfterBytes: number;
};

/** Per-variant summary of one input. */
export interface VariantReport {
  msTotal: Summary;
  mbps: Summary;
  msToFirstBatch: Summary | null;
  msToFirstProgress: Summary | null;
  /** `null` where the heap was not sampled (a new loader's worker). */
  heapMiB: Summary | null;
  /** The ArrayBuffers' part of each run's peak (`heapMiB` less the JS heap). */
  heapBuffersMiB?: Summary | null;
  /** Samples each run's peak is the largest of: a short run's peak, of fewer samples, may fall short. */
  heapSamples?: Summary | null;
  /** The same heap after the run and a forced collection: what stays. */
  heapAfterMiB: Summary | null;
  /** `ours:cold`: milliseconds `createLoader` took. */
  msCreate: Summary | null;
  longTasks: number;
  longestTaskMs: number;
  fps: Summary | null;
  stages?: Record<string, number>;
  maxUploadsInFlight?: number;
  maxQueueDepth?: number;
  /** Most decode workers a run's batches went to (`stats.decodeWorkers`; 0: the loader's worker). */
  decodeWorkers?: number;
  /** `ours:render`: ms from the load's end to the first frame, and of a pan's frame. */
  frames?: { firstMs: Summary; panMs: Summary };
}

/** Ratios computed within each repetition, then summarised. */
export interface Ratios {
  /** Limit time / arrow-webgpu time (1 = at the limit). */
  stagingOfLimit: Summary | null;
  writeBufferOfLimit: Summary | null;
  /** Naive main-thread time / arrow-webgpu (default strategy) time. */
  naiveOverOursTotal: Summary | null;
  naiveOverOursFirstBatch: Summary | null;
  /** The same for a new loader's first load (`ours:cold`). */
  naiveOverColdTotal: Summary | null;
  naiveOverColdFirstBatch: Summary | null;
  /** The page's device (`createLoader({ device })`) time / the worker's own device (default strategy) time. */
  deviceOverWorkerTotal: Summary | null;
}

/** Everything measured on one input. */
export interface InputReport {
  input: string;
  fileBytes: number;
  gpuBytes: number;
  rows: number;
  batches: number;
  variants: Partial<Record<VariantId, VariantReport>>;
  ratios: Ratios;
}

/** The strategy `createLoader` uses when none is given. */
export const DEFAULT_STRATEGY: 'staging' | 'writeBuffer' = 'staging';

const MiB = 2 ** 20;

/** The stages of `stats.stages` the reports show; `dictionaryMs` is part of `encodeMs`. */
const STAGE_NAMES = ['fetchWaitMs', 'decodeMs', 'encodeMs', 'dictionaryMs', 'gpuWaitMs'] as const;

/** The stages column's heading and one variant's cell: fetch/decode/encode (of it dictionary)/gpu. */
const STAGES_HEADING = 'stages ms fetch/decode/encode (dictionary)/gpu, decode workers';
const stagesCell = (stages: Record<string, number> | undefined, decodeWorkers?: number) =>
  stages
    ? `${[stages.fetchWaitMs, stages.decodeMs, stages.encodeMs].map((ms) => (ms ?? 0).toFixed(0)).join('/')} ` +
      `(${(stages.dictionaryMs ?? 0).toFixed(0)})/${(stages.gpuWaitMs ?? 0).toFixed(0)}` +
      (decodeWorkers ? `, ${decodeWorkers}` : '')
    : '';

export function summarizeInput(
  input: BenchInput,
  fileBytes: number,
  samples: Sample[],
  variants: VariantId[],
): InputReport {
  const by = (v: VariantId) => samples.filter((s) => s.variant === v);
  const report: InputReport = {
    input: input.name,
    fileBytes,
    gpuBytes: input.gpuBytes,
    rows: input.spec.rows,
    batches: Math.ceil(input.spec.rows / input.spec.batchRows),
    variants: {},
    ratios: {
      stagingOfLimit: null,
      writeBufferOfLimit: null,
      naiveOverOursTotal: null,
      naiveOverOursFirstBatch: null,
      naiveOverColdTotal: null,
      naiveOverColdFirstBatch: null,
      deviceOverWorkerTotal: null,
    },
  };
  for (const v of variants) {
    const runs = by(v);
    if (runs.length === 0) continue;
    const numbers = (pick: (s: Sample) => number | null | undefined) =>
      summarize(runs.map(pick).filter((x): x is number => typeof x === 'number'));
    report.variants[v] = {
      msTotal: numbers((s) => s.msTotal) as Summary,
      mbps: numbers((s) => fileBytes / 1e6 / (s.msTotal / 1000)) as Summary,
      msToFirstBatch: numbers((s) => s.msToFirstBatch),
      msToFirstProgress: numbers((s) => s.msToFirstProgress),
      heapMiB: numbers((s) => (Number.isFinite(s.heapBytes) ? s.heapBytes / MiB : null)),
      heapBuffersMiB: numbers((s) =>
        s.heapBuffersBytes !== undefined && Number.isFinite(s.heapBuffersBytes)
          ? s.heapBuffersBytes / MiB
          : null,
      ),
      heapSamples: numbers((s) => s.heapSamples),
      heapAfterMiB: numbers((s) => (Number.isFinite(s.heapAfterBytes) ? s.heapAfterBytes / MiB : null)),
      msCreate: numbers((s) => s.msCreate),
      longTasks: Math.max(...runs.map((s) => s.longTasks)),
      longestTaskMs: Math.max(...runs.map((s) => s.longestTaskMs)),
      fps: numbers((s) => s.fps),
      ...(runs[0]?.stages
        ? {
            stages: Object.fromEntries(
              STAGE_NAMES.map((k) => [k, summarize(runs.map((s) => s.stages?.[k] ?? 0))?.median ?? 0]),
            ),
            maxUploadsInFlight: Math.max(...runs.map((s) => s.maxUploadsInFlight ?? 0)),
            maxQueueDepth: Math.max(...runs.map((s) => s.maxQueueDepth ?? 0)),
            decodeWorkers: Math.max(...runs.map((s) => s.decodeWorkers ?? 0)),
          }
        : {}),
      ...(runs[0]?.frames
        ? {
            frames: {
              firstMs: numbers((s) => s.frames?.firstMs) as Summary,
              panMs: numbers((s) => s.frames?.panMs) as Summary,
            },
          }
        : {}),
    };
  }
  const reps = [...new Set(samples.map((s) => s.rep))];
  const perRep = (f: (get: (v: VariantId) => Sample | undefined) => number | null) =>
    summarize(
      reps
        .map((rep) => f((v) => samples.find((s) => s.rep === rep && s.variant === v)))
        .filter((x): x is number => x !== null && Number.isFinite(x)),
    );
  const limit = (get: (v: VariantId) => Sample | undefined, upload: VariantId) => {
    const parts = (['ceil:read', 'ceil:decode', upload] as VariantId[]).map((v) => get(v)?.msTotal);
    return parts.every((p) => p !== undefined) ? Math.max(...(parts as number[])) : null;
  };
  const ofLimit = (ours: VariantId, upload: VariantId) =>
    perRep((get) => {
      const l = limit(get, upload);
      const o = get(ours)?.msTotal;
      return l !== null && o ? l / o : null;
    });
  report.ratios.stagingOfLimit = ofLimit('ours:staging', 'ceil:staging');
  report.ratios.writeBufferOfLimit = ofLimit('ours:writeBuffer', 'ceil:writeBuffer');
  const naiveOver = (ours: VariantId, key: 'msTotal' | 'msToFirstBatch') =>
    perRep((get) => {
      const n = get('naive:main')?.[key];
      const o = get(ours)?.[key];
      return n && o ? n / o : null;
    });
  const ours: VariantId = `ours:${DEFAULT_STRATEGY}`;
  report.ratios.naiveOverOursTotal = naiveOver(ours, 'msTotal');
  report.ratios.naiveOverOursFirstBatch = naiveOver(ours, 'msToFirstBatch');
  report.ratios.naiveOverColdTotal = naiveOver('ours:cold', 'msTotal');
  report.ratios.naiveOverColdFirstBatch = naiveOver('ours:cold', 'msToFirstBatch');
  report.ratios.deviceOverWorkerTotal = perRep((get) => {
    const d = get('ours:device')?.msTotal;
    const o = get(ours)?.msTotal;
    return d && o ? d / o : null;
  });
  return report;
}

const fmt = (s: Summary | null | undefined, digits = 0) =>
  s ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : '–';

/**
 * A run's peak heap, with the ArrayBuffers' part of it and the samples taken during a run where known:
 * "35 (29–41); buffers 30; 12 samples".
 */
function heapCell(v: VariantReport): string {
  const buffers = v.heapBuffersMiB?.median;
  const samples = v.heapSamples?.median;
  return (
    fmt(v.heapMiB) +
    (buffers === undefined ? '' : `; buffers ${buffers.toFixed(0)}`) +
    (samples === undefined ? '' : `; ${samples.toFixed(0)} samples`)
  );
}

/** Prints one input's table. */
export function printReport(r: InputReport): void {
  console.log(
    `\n${r.input}: ${(r.fileBytes / MiB).toFixed(0)} MiB, ${r.rows.toLocaleString()} rows, ${r.batches} batches, ` +
      `${(r.gpuBytes / MiB).toFixed(0)} MiB to the GPU — median (min–max) of ${r.variants['ours:staging']?.msTotal.n ?? '?'} runs`,
  );
  const rows = Object.entries(r.variants).map(([id, v]) => ({
    variant: id,
    'MB/s': fmt(v.mbps),
    'total ms': fmt(v.msTotal),
    'first batch ms': fmt(v.msToFirstBatch),
    'first progress ms': fmt(v.msToFirstProgress, 1),
    'heap MiB': heapCell(v),
    'heap after MiB': fmt(v.heapAfterMiB, 1),
    'long tasks': v.fps ? `${v.longTasks} (max ${v.longestTaskMs.toFixed(0)} ms)` : '–',
    fps: fmt(v.fps),
    [STAGES_HEADING]: stagesCell(v.stages, v.decodeWorkers),
  }));
  console.table(rows);
  const frames = framesLine(r);
  if (frames) console.log(frames);
  const { ratios } = r;
  console.log(
    `limit/ours: staging ${fmt(ratios.stagingOfLimit, 2)}, writeBuffer ${fmt(ratios.writeBufferOfLimit, 2)}; ` +
      `naive main / ours (${DEFAULT_STRATEGY}): total ${fmt(ratios.naiveOverOursTotal, 2)}, first batch ${fmt(ratios.naiveOverOursFirstBatch, 1)}; ` +
      `naive main / cold: total ${fmt(ratios.naiveOverColdTotal, 2)}, first batch ${fmt(ratios.naiveOverColdFirstBatch, 1)}; ` +
      `page's device / worker's: total ${fmt(ratios.deviceOverWorkerTotal, 2)}`,
  );
  const create = r.variants['ours:cold']?.msCreate;
  if (create) console.log(`ours:cold: createLoader took ${fmt(create)} ms before its load`);
}

/** What the render variant drew: its frames' times (an empty string without it). */
function framesLine(r: InputReport): string {
  const frames = r.variants['ours:render']?.frames;
  if (!frames) return '';
  return (
    `ours:render: ${r.rows.toLocaleString('en')} points, first frame ${fmt(frames.firstMs)} ms after the load, ` +
    `a pan's frame ${fmt(frames.panMs)} ms`
  );
}

/** The issue's targets, checked on the 256 MiB inputs (the dashboard table included). */
export function targets(reports: InputReport[]) {
  const big = reports.filter((r) => r.input.includes('256mib'));
  const ours = `ours:${DEFAULT_STRATEGY}` as const;
  const heapRatio = (batch: string, after = false) => {
    const heap = (mib: number) => {
      const v = reports.find((r) => r.input === `${mib}mib-${batch}-stream.arrow`)?.variants[ours];
      return (after ? v?.heapAfterMiB : v?.heapMiB)?.median;
    };
    const a = heap(64);
    const b = heap(256);
    return a && b ? b / a : null;
  };
  return {
    defaultStrategy: DEFAULT_STRATEGY,
    ofLimit: Object.fromEntries(
      big.map((r) => [
        r.input,
        (DEFAULT_STRATEGY === 'staging' ? r.ratios.stagingOfLimit : r.ratios.writeBufferOfLimit)?.median ??
          null,
      ]),
    ),
    naiveOverOursFirstBatch: Object.fromEntries(
      big.map((r) => [r.input, r.ratios.naiveOverOursFirstBatch?.median ?? null]),
    ),
    naiveOverOursTotal: Object.fromEntries(
      big.map((r) => [r.input, r.ratios.naiveOverOursTotal?.median ?? null]),
    ),
    naiveOverColdFirstBatch: Object.fromEntries(
      big.map((r) => [r.input, r.ratios.naiveOverColdFirstBatch?.median ?? null]),
    ),
    /** The small file: naive main-thread time over a new loader's first load and over a warm loader's (≥ 1: no slower). */
    smallFile: Object.fromEntries(
      reports
        .filter((r) => r.input.startsWith(SMALL_FILE_PREFIX))
        .map((r) => [
          r.input,
          {
            cold: r.ratios.naiveOverColdTotal?.median ?? null,
            warm: r.ratios.naiveOverOursTotal?.median ?? null,
          },
        ]),
    ),
    oursLongTasks: Math.max(
      0,
      ...reports.flatMap((r) => [
        r.variants['ours:staging']?.longTasks ?? 0,
        r.variants['ours:writeBuffer']?.longTasks ?? 0,
        r.variants['ours:render']?.longTasks ?? 0,
        r.variants['ours:device']?.longTasks ?? 0,
      ]),
    ),
    naiveMainLongTasks: Math.max(0, ...reports.map((r) => r.variants['naive:main']?.longTasks ?? 0)),
    deviceOverWorkerTotal: Object.fromEntries(
      big.map((r) => [r.input, r.ratios.deviceOverWorkerTotal?.median ?? null]),
    ),
    deviceLongestTaskMs: Math.max(0, ...reports.map((r) => r.variants['ours:device']?.longestTaskMs ?? 0)),
    heap256Over64: { small: heapRatio('small'), large: heapRatio('large') },
    heapAfter256Over64: { small: heapRatio('small', true), large: heapRatio('large', true) },
  };
}

/** Writes a small self-contained HTML page with one SVG bar chart (MB/s) per input. */
export async function writeChart(
  path: string,
  result: { date: string; browser: string; inputs: InputReport[] },
): Promise<void> {
  const charts = result.inputs.map((r) => {
    const entries = Object.entries(r.variants) as Array<[VariantId, VariantReport]>;
    const max = Math.max(...entries.map(([, v]) => v.mbps.max));
    const bar = 22;
    const width = 760;
    const label = 330;
    const bars = entries
      .map(([id, v], i) => {
        const y = i * bar + 4;
        const w = ((width - label - 90) * v.mbps.median) / max;
        const color = id.startsWith('ours') ? '#2f81f7' : id.startsWith('ceil') ? '#8b949e' : '#f0883e';
        return (
          `<text x="0" y="${y + 14}">${VARIANTS[id]}</text>` +
          `<rect x="${label}" y="${y}" width="${w.toFixed(1)}" height="${bar - 6}" fill="${color}"/>` +
          `<text x="${label + w + 6}" y="${y + 14}">${v.mbps.median.toFixed(0)} MB/s</text>`
        );
      })
      .join('');
    return `<h2>${r.input}</h2><svg width="${width}" height="${entries.length * bar + 8}" font-family="system-ui" font-size="12">${bars}</svg>`;
  });
  const html = `<!doctype html><meta charset="utf-8"><title>arrow-webgpu benchmark</title><body style="font-family:system-ui"><h1>arrow-webgpu benchmark</h1><p>${result.browser}, ${result.date}. Median MB/s of the file bytes; grey: ceilings, blue: arrow-webgpu, orange: naive.</p>${charts.join('')}</body>`;
  await writeFile(path, html);
}

/** The results as Markdown tables, one per input, for the README. */
export function toMarkdown(result: {
  date: string;
  browser: string;
  machine: string;
  inputs: InputReport[];
}): string {
  const lines = [
    `${result.browser}, ${result.machine}, ${result.date.slice(0, 10)}. Median (min–max) of each variant's runs.`,
    '',
  ];
  for (const r of result.inputs) {
    lines.push(
      `**${r.input}** — ${(r.fileBytes / MiB).toFixed(0)} MiB, ${r.batches} batches; limit/ours: staging ${fmt(r.ratios.stagingOfLimit, 2)}, ` +
        `writeBuffer ${fmt(r.ratios.writeBufferOfLimit, 2)}; naive main-thread / ours: total ${fmt(r.ratios.naiveOverOursTotal, 2)}, ` +
        `first batch ${fmt(r.ratios.naiveOverOursFirstBatch, 1)}; page's device / worker's: total ${fmt(r.ratios.deviceOverWorkerTotal, 2)}` +
        (r.ratios.naiveOverColdTotal
          ? `; naive / a new loader's first load: total ${fmt(r.ratios.naiveOverColdTotal, 2)}, ` +
            `first batch ${fmt(r.ratios.naiveOverColdFirstBatch, 1)} (createLoader ${fmt(r.variants['ours:cold']?.msCreate)} ms)`
          : ''),
      '',
      `| variant | MB/s | total ms | first batch ms | first progress ms | heap MiB | heap after MiB | long tasks (longest ms) | fps | ${STAGES_HEADING} |`,
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const [id, v] of Object.entries(r.variants) as Array<[VariantId, VariantReport]>) {
      const stages = stagesCell(v.stages, v.decodeWorkers);
      lines.push(
        `| ${id} | ${fmt(v.mbps)} | ${fmt(v.msTotal)} | ${fmt(v.msToFirstBatch)} | ${fmt(v.msToFirstProgress)} | ${heapCell(v)} | ${fmt(v.heapAfterMiB, 1)} | ` +
          `${v.fps ? `${v.longTasks} (${v.longestTaskMs.toFixed(0)})` : '–'} | ${fmt(v.fps)} | ${stages} |`,
      );
    }
    const frames = framesLine(r);
    lines.push('', ...(frames ? [frames, ''] : []));
  }
  return lines.join('\n');
}
