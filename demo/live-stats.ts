import type { LoadProgress, LoadStats } from '../src/index.js';
import { THEME } from './canvas.js';
import { byId, count, megabytes, setText } from './dom.js';
import { limitOf } from './limit.js';
import { drawSparkline } from './sparkline.js';

/** The sliding window of the MB/s curve: short enough to show stalls, long enough to be readable. */
const RATE_WINDOW_MS = 250;
/** Charts are redrawn at most this often while a load runs (each repaint costs the compositor). */
const DRAW_EVERY_MS = 200;

/**
 * The live figures of the load in progress (throughput over time, rows and bytes against the total,
 * queue depth and staging buffers in flight, time to first batch) and, once it ends, what limited it.
 * `reset` blanks every figure, so that nothing of an earlier load outlives it.
 */
export class LiveStats {
  /** The GPU is a CPU rasteriser (SwiftShader): a GPU-bound figure says so. */
  softwareGpu = false;
  private samples: LoadProgress[] = [];
  private rateTimes: number[] = [];
  private rates: number[] = [];
  private pipeTimes: number[] = [];
  private queue: number[] = [];
  private staging: number[] = [];
  private rowsTotal: number | null = null;
  private drawPending = false;

  /** Blanks every figure; `rowsTotal` is the row count when the source says it (schema metadata). */
  reset(rowsTotal: number | null = null): void {
    this.samples = [];
    this.rateTimes = [];
    this.rates = [];
    this.pipeTimes = [];
    this.queue = [];
    this.staging = [];
    this.rowsTotal = rowsTotal;
    for (const id of ['rate', 'rows', 'bytes', 'bytes-total', 'batches', 'first', 'total', 'limit'])
      setText(id, '–');
    setText('rows-total', rowsTotal === null ? 'of –' : `of ${count(rowsTotal)}`);
    setText('queue-max', '');
    setText('staging-max', '');
    this.slots('queue', 0);
    this.slots('staging', 0);
    this.bar(0, '');
    this.draw();
  }

  /** Shows one progress snapshot from the worker. */
  progress(p: LoadProgress): void {
    this.samples.push(p);
    const start = this.samples.find((s) => s.elapsedMs >= p.elapsedMs - RATE_WINDOW_MS) as LoadProgress;
    const span = p.elapsedMs - start.elapsedMs;
    if (span > 0) {
      this.rateTimes.push(p.elapsedMs);
      this.rates.push((p.bytesFetched - start.bytesFetched) / 1e3 / span);
    }
    this.pipeTimes.push(p.elapsedMs);
    this.queue.push(p.queueDepth);
    this.staging.push(p.uploadsInFlight);
    setText('rate', p.elapsedMs > 0 ? rate(p.bytesFetched, p.elapsedMs) : '–');
    setText('rows', count(p.rows));
    const estimate = p.bytesTotal && p.bytesFetched > 0 ? (p.rows * p.bytesTotal) / p.bytesFetched : null;
    if (this.rowsTotal !== null) setText('rows-total', `of ${count(this.rowsTotal)}`);
    else if (estimate !== null) setText('rows-total', `of ≈${count(estimate)} (from bytes)`);
    setText('bytes', megabytes(p.bytesFetched));
    setText('bytes-total', p.bytesTotal === null ? '?' : megabytes(p.bytesTotal));
    setText('batches', count(p.batches));
    if (p.rows > 0 && byId('first').textContent === '–') setText('first', p.elapsedMs.toFixed(0));
    setText('queue-max', `max ${Math.max(...this.queue)}`);
    setText('staging-max', `max ${Math.max(...this.staging)}`);
    this.slots('queue', p.queueDepth);
    this.slots('staging', p.uploadsInFlight);
    this.bar(p.bytesTotal ? p.bytesFetched / p.bytesTotal : 0, '');
    this.scheduleDraw();
  }

  /** The final figures of a finished load, from its stats; returns what limited it. */
  finish(stats: LoadStats, rows: number): string {
    setText('rate', rate(stats.bytesFetched, stats.msTotal));
    setText('rows', count(rows));
    setText('rows-total', `of ${count(rows)}`);
    setText('bytes', megabytes(stats.bytesFetched));
    setText('batches', count(stats.batches));
    setText('first', stats.msToFirstBatch.toFixed(0));
    setText('total', stats.msTotal.toFixed(0));
    setText('queue-max', `max ${stats.maxQueueDepth}`);
    setText('staging-max', `max ${stats.maxUploadsInFlight}`);
    this.slots('queue', 0);
    this.slots('staging', 0);
    this.bar(1, 'done');
    const limit = limitOf(stats);
    const emulated = this.softwareGpu && limit.stage === 'GPU' ? ' The GPU here is emulated on the CPU.' : '';
    setText('limit', limit.text + emulated);
    this.draw();
    return limit.stage;
  }

  /** Figures of a load made without the worker (the naive path): no queue, no staging, no stages. */
  finishNaive(rows: number, batches: number, bytes: number, msTotal: number): void {
    setText('rate', rate(bytes, msTotal));
    setText('rows', count(rows));
    setText('rows-total', `of ${count(rows)}`);
    setText('bytes', megabytes(bytes));
    setText('bytes-total', megabytes(bytes));
    setText('batches', count(batches));
    setText('first', msTotal.toFixed(0));
    setText('total', msTotal.toFixed(0));
    setText('limit', 'Naive: the whole file is fetched, then decoded and uploaded on the main thread.');
    this.bar(1, 'done');
  }

  /** Marks the progress bar failed (an error or a cancel); figures are reset by the caller. */
  fail(): void {
    this.bar(1, 'failed');
  }

  private bar(fraction: number, state: '' | 'done' | 'failed'): void {
    const bar = byId('progress');
    bar.className = `progress ${state}`;
    bar.setAttribute('aria-valuenow', String(Math.round(100 * fraction)));
    (bar.firstElementChild as HTMLElement).style.width = `${(100 * Math.min(1, fraction)).toFixed(2)}%`;
  }

  private slots(id: string, on: number): void {
    const slots = byId(id);
    const max = Number(slots.dataset.max ?? 2);
    if (slots.childElementCount !== max)
      slots.replaceChildren(...Array.from({ length: max }, () => document.createElement('i')));
    Array.from(slots.children).forEach((slot, i) => {
      slot.classList.toggle('on', i < on);
    });
    slots.setAttribute('aria-label', `${on} of ${max}`);
    slots.dataset.value = String(on);
  }

  private scheduleDraw(): void {
    if (this.drawPending) return;
    this.drawPending = true;
    setTimeout(() => {
      this.drawPending = false;
      this.draw();
    }, DRAW_EVERY_MS);
  }

  private draw(): void {
    drawSparkline(byId<HTMLCanvasElement>('rate-chart'), [
      { times: this.rateTimes, values: this.rates, color: THEME.accent, fill: true },
    ]);
    drawSparkline(
      byId<HTMLCanvasElement>('pipeline-chart'),
      [
        { times: this.pipeTimes, values: this.queue, color: THEME.accent, steps: true },
        { times: this.pipeTimes, values: this.staging.map((v) => v - 0.08), color: THEME.brush, steps: true },
      ],
      2.2,
    );
  }
}

/** MB/s of `bytes` in `ms`: whole numbers from 10 up, one decimal below. */
export function rate(bytes: number, ms: number): string {
  const mbps = bytes / 1e3 / Math.max(1, ms);
  return mbps >= 10 ? mbps.toFixed(0) : mbps.toFixed(1);
}
