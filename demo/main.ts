import {
  createLoader,
  type GpuTable,
  type Loader,
  type LoadProgress,
  type UploadStrategy,
} from '../src/index.js';
import { type DeviceChoice, DeviceMode } from './device-mode.js';
import { byId, count, megabytes } from './dom.js';
import { FrameMeter } from './frame-meter.js';
import { LiveStats } from './live-stats.js';
import { describeError, showError, showMessage } from './message.js';
import { type Choice, ColumnPickers, defaultChoice } from './pickers.js';
import { addRun, type Run } from './runs.js';
import { bindSourceInputs, loaderInput, type Source, sourceLabel } from './source.js';
import { Views } from './views.js';

/** How a load reaches the GPU: one of the worker's upload strategies, or the naive main-thread path. */
type Mode = UploadStrategy | 'naive';

/** One load: everything it shows belongs to it, and goes when the next one starts. */
interface Session {
  source: Source;
  mode: Mode;
  device: DeviceChoice;
  controller: AbortController;
  table: GpuTable | null;
}

const meter = new FrameMeter(byId<HTMLCanvasElement>('frame-chart'));
const stats = new LiveStats();
const views = new Views();
const pickers = new ColumnPickers((choice) => {
  views.choose(choice).catch((error) => showError(error));
});
const cancel = byId<HTMLButtonElement>('cancel');
const devices = new DeviceMode(() => void start(source));
let workerLoader: Loader | null = null;
let current: Session | null = null;
let source: Source = initialSource();

/** `?url=…&mode=…` choose what the page loads on open (default: the input's value, staging). */
function initialSource(): Source {
  const params = new URLSearchParams(location.search);
  const input = byId<HTMLInputElement>('url');
  input.value = params.get('url') ?? input.value;
  const radios = [...document.querySelectorAll<HTMLInputElement>('input[name="mode"]')];
  const radio = radios.find((r) => r.value === params.get('mode'));
  if (radio) radio.checked = true;
  return { kind: 'url', url: input.value };
}

function mode(): Mode {
  return (document.querySelector('input[name="mode"]:checked') as HTMLInputElement).value as Mode;
}

/**
 * Starts loading `next`: the load before it is cancelled, its table freed and every view blanked first,
 * so that nothing of it can show beside the new one (late answers of an old load are dropped: each
 * callback checks that its session is still the current one).
 */
async function start(next: Source): Promise<void> {
  source = next;
  const previous = current;
  const session: Session = {
    source: next,
    mode: mode(),
    device: devices.value,
    controller: new AbortController(),
    table: null,
  };
  current = session;
  previous?.controller.abort();
  views.clear();
  pickers.clear();
  stats.reset();
  cancel.disabled = false;
  meter.beginRun();
  try {
    await previous?.table?.destroy().catch(() => {});
    if (session !== current) return;
    if (session.mode === 'naive') await runNaive(session);
    else await runWorker(session);
  } catch (error) {
    if (session === current) fail(session, error);
  } finally {
    if (session === current) cancel.disabled = true;
  }
}

/**
 * Inspects the schema (column pickers), then opens the source in the worker: the table comes back at
 * once and fills as batches land (live progress, the scatter redrawn as rows arrive); once it is
 * complete, the final figures, the scatter over every row and the histograms.
 */
async function runWorker(session: Session): Promise<void> {
  // On the page's device, the tables' buffers are this page's, and the page draws them itself.
  const page = session.device === 'page' ? await devices.pageDevice() : null;
  const loader = page?.loader ?? workerLoader;
  if (!loader) throw new Error('WebGPU did not start');
  if (session !== current) return;
  views.useDevice(page?.device ?? null);
  const { signal } = session.controller;
  const input = loaderInput(session.source);
  showMessage(`Reading the schema of ${sourceLabel(session.source)}…`);
  const schema = await loader.inspect(input, { signal });
  if (session !== current) return;
  const choice: Choice = defaultChoice(schema.columns);
  pickers.fill(schema.columns, choice);
  showMessage(`Loading ${schema.columns.length} columns with ${label(session)}…`);
  const startedAt = performance.now();
  const table = await loader.open(input, {
    upload: session.mode as UploadStrategy,
    signal,
    onProgress: (p: LoadProgress) => {
      if (session === current) stats.progress(p);
    },
    onBatch: () => {
      if (session === current) views.grow();
    },
  });
  if (session !== current) {
    await table.destroy().catch(() => {});
    return;
  }
  session.table = table;
  views.begin(loader, table, pickers.value(), startedAt);
  await table.done;
  if (session !== current) return;
  const limit = stats.finish(table.stats, table.numRows);
  // The worker's wait for a chunk to be handed back is the page's writing it: the figure says so.
  if (page)
    byId('limit').append(
      ' On this page’s device, the GPU wait includes this page’s thread writing the chunks.',
    );
  const frames = meter.endRun();
  const { msTotal, msToFirstBatch, bytesFetched } = table.stats;
  showMessage(
    `Loaded ${count(table.numRows)} rows (${megabytes(bytesFetched)} MB) in ${msTotal.toFixed(0)} ms with ${label(session)}; ` +
      `first batch on the GPU after ${msToFirstBatch.toFixed(0)} ms.`,
  );
  record(session, {
    result: `${count(table.numRows)} rows`,
    ok: true,
    mbps: bytesFetched / 1e3 / msTotal,
    firstMs: msToFirstBatch,
    totalMs: msTotal,
    ...frames,
    limit,
  });
  try {
    await views.finish(table, pickers.value(), choice.histograms);
  } catch (error) {
    // The table loaded; only a view of it failed: its figures stay, the panel says why.
    if (session === current)
      views.note(`The views could not be drawn: ${describeError(error).message}`, true);
  }
}

/** The naive path: the whole file on the main thread, decoded and uploaded there (the page freezes). */
async function runNaive(session: Session): Promise<void> {
  showMessage(
    `Naive load of ${sourceLabel(session.source)}: the whole file, then decode and upload on the main thread…`,
  );
  const t0 = performance.now();
  let shown = 0;
  // Loaded when first used: apache-arrow and the naive path are no part of the worker's page.
  const { naiveLoad } = await import('./naive.js');
  const result = await naiveLoad(session.source, session.controller.signal, (bytes, total) => {
    const now = performance.now();
    if (session !== current || now - shown < 50) return;
    shown = now;
    stats.progress(naiveProgress(bytes, total, now - t0));
  });
  if (session !== current) return;
  stats.finishNaive(result.rows, result.batches, result.bytes, result.msTotal);
  const frames = meter.endRun();
  showMessage(
    `Naive: ${count(result.rows)} rows (${megabytes(result.bytes)} MB) on the page's device in ${result.msTotal.toFixed(0)} ms; ` +
      `nothing could be drawn before then, and the page froze for ${frames.longestTaskMs.toFixed(0)} ms.`,
  );
  views.note(
    'The naive path keeps its table on the page’s own device: switch to staging or writeBuffer to draw it.',
  );
  record(session, {
    result: `${count(result.rows)} rows`,
    ok: true,
    mbps: result.bytes / 1e3 / result.msTotal,
    firstMs: result.msTotal,
    totalMs: result.msTotal,
    ...frames,
    limit: 'main thread',
  });
}

function naiveProgress(bytes: number, total: number | null, elapsedMs: number): LoadProgress {
  return {
    bytesFetched: bytes,
    bytesTotal: total,
    batches: 0,
    rows: 0,
    bytesUploaded: 0,
    queueDepth: 0,
    uploadsInFlight: 0,
    elapsedMs,
  };
}

/** A failed or cancelled load: its message, and nothing left of it or of the table before it. */
function fail(session: Session, error: unknown): void {
  views.clear();
  pickers.clear();
  stats.reset();
  stats.fail();
  void session.table?.destroy().catch(() => {});
  session.table = null;
  const code = showError(error);
  views.note(code === 'ABORTED' ? 'Cancelled.' : 'Nothing loaded.', code !== 'ABORTED');
  record(session, { result: code === 'ABORTED' ? 'cancelled' : code, ok: false, ...meter.endRun() });
}

function record(session: Session, run: Omit<Run, 'source' | 'mode'>): void {
  addRun({ source: sourceLabel(session.source), mode: label(session), ...run });
}

/** How a load reaches the GPU, in words: on this page's device, the page's `writeBuffer` does it. */
function label(session: Session): string {
  return session.device === 'page' && session.mode !== 'naive' ? 'this page’s device' : session.mode;
}

cancel.addEventListener('click', () => current?.controller.abort());
bindSourceInputs((next) => void start(next));
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]'))
  radio.addEventListener('change', () => void start(source));

try {
  workerLoader = await createLoader();
  const info = await workerLoader.adapterInfo();
  const name = info.description || info.vendor || 'unknown GPU';
  const software =
    info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${name} ${info.architecture}`);
  byId('adapter').textContent = `${name}${software ? ' (software)' : ''} · ${info.architecture || 'WebGPU'}`;
  // On a CPU rasteriser the GPU's work shares the page's cores: the figures say so.
  byId('frame-note').hidden = !software;
  stats.softwareGpu = software;
  views.software = software;
  await start(source);
} catch (error) {
  showError(error);
  byId('adapter').textContent = 'no WebGPU';
}
