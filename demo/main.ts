import {
  createLoader,
  type GpuTable,
  type Loader,
  type LoadProgress,
  type UploadStrategy,
} from '../src/index.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const canvas = $<HTMLCanvasElement>('throughput');
const rates: number[] = [];

// A frame-time meter: the point of the worker is that this keeps ticking during a load.
let lastFrame = performance.now();
let worstFrame = 0;
function frame(now: number) {
  worstFrame = Math.max(worstFrame, now - lastFrame);
  lastFrame = now;
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
setInterval(() => {
  $('frame').textContent = `${worstFrame.toFixed(0)} ms max`;
  worstFrame = 0;
}, 500);

function drawRates() {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const max = Math.max(1, ...rates);
  ctx.strokeStyle = '#4f9cf9';
  ctx.beginPath();
  rates.forEach((r, i) => {
    const x = (i / Math.max(1, rates.length - 1)) * canvas.width;
    const y = canvas.height - (r / max) * (canvas.height - 10) - 5;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#9aa0a6';
  ctx.fillText(`${max.toFixed(0)} MB/s`, 4, 12);
}

let previous: { bytes: number; ms: number } = { bytes: 0, ms: 0 };
function showProgress(p: LoadProgress) {
  const mbps = p.elapsedMs > 0 ? p.bytesFetched / 1e6 / (p.elapsedMs / 1000) : 0;
  const dt = p.elapsedMs - previous.ms;
  if (dt > 0) rates.push((p.bytesFetched - previous.bytes) / 1e6 / (dt / 1000));
  previous = { bytes: p.bytesFetched, ms: p.elapsedMs };
  $('rows').textContent = p.rows.toLocaleString();
  $('rate').textContent = mbps.toFixed(0);
  $('batches').textContent = String(p.batches);
  $('queue').textContent = String(p.queueDepth);
  $('staging').textContent = String(p.uploadsInFlight);
  $('bar-fill').style.width = p.bytesTotal ? `${(100 * p.bytesFetched) / p.bytesTotal}%` : '100%';
  drawRates();
}

async function showColumns(table: GpuTable) {
  const body = $('columns').querySelector('tbody') as HTMLTableSectionElement;
  body.replaceChildren();
  for (const column of table.columns) {
    const values = await table.readColumn(column.name);
    const row = document.createElement('tr');
    const cells = [
      column.name,
      column.arrowType,
      column.gpuType,
      column.byteLength.toLocaleString(),
      column.nullCount.toLocaleString(),
      Array.from(values.subarray(0, 4), (v) => (Number.isInteger(v) ? String(v) : v.toFixed(3))).join(', '),
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      row.append(td);
    }
    body.append(row);
  }
}

let loader: Loader | null = null;
let table: GpuTable | null = null;
let controller: AbortController | null = null;

async function load() {
  if (!loader) return;
  controller?.abort();
  controller = new AbortController();
  rates.length = 0;
  previous = { bytes: 0, ms: 0 };
  $<HTMLButtonElement>('cancel').disabled = false;
  status.className = '';
  status.textContent = 'loading…';
  await table?.destroy();
  table = null;
  try {
    const upload = $<HTMLSelectElement>('upload').value as UploadStrategy;
    table = await loader.load($<HTMLInputElement>('url').value, {
      upload,
      signal: controller.signal,
      onProgress: showProgress,
    });
    const { stats } = table;
    $('first').textContent = `${stats.msToFirstBatch.toFixed(0)} ms`;
    $('rate').textContent = (stats.bytesFetched / 1e6 / (stats.msTotal / 1000)).toFixed(0);
    status.textContent = `Loaded ${table.numRows.toLocaleString()} rows (${(stats.bytesFetched / 1e6).toFixed(1)} MB) in ${stats.msTotal.toFixed(0)} ms with ${stats.upload}.`;
    await showColumns(table);
  } catch (error) {
    status.className = 'error';
    const { code, message } = error as Error & { code?: string };
    status.textContent = `${code ?? 'ERROR'}: ${message}`;
  } finally {
    $<HTMLButtonElement>('cancel').disabled = true;
  }
}

$('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  void load();
});
$('cancel').addEventListener('click', () => controller?.abort());

try {
  loader = await createLoader();
  const info = await loader.adapterInfo();
  $('adapter').textContent =
    `Adapter: ${info.description || info.vendor} (${info.architecture})${info.isFallbackAdapter ? ', software fallback' : ''}; maxBufferSize ${(info.maxBufferSize / 2 ** 20).toFixed(0)} MiB.`;
  await load();
} catch (error) {
  status.className = 'error';
  status.textContent = `WebGPU unavailable: ${(error as Error).message}`;
}
