import type { Histogram } from '../src/index.js';
import { surface, THEME } from './canvas.js';
import { count, make } from './dom.js';
import { type ValueFormat, valueFormat } from './format.js';

/** A brush as the crossfilter takes it: rows with `lo ≤ v < hi` (±Infinity at the ends), or none. */
export type Brush = readonly [number, number] | null;

/**
 * One column's histogram with a brush: the bars of every row in grey, the bars of the rows the other
 * brushes keep in blue, and a brush dragged across bins (snapped to their edges; the first and last bins
 * open to ±Infinity so that every row of an end bin is in). A click without a drag clears it. The DOM
 * element carries the figures drawn (`data-edges`, `data-counts`, `data-brush`) for tests and tools.
 */
export class HistogramChart {
  readonly element = make('div', 'hist');
  private readonly canvas = make('canvas');
  private readonly stats = make('span', 'hist-count');
  private readonly low = make('span');
  private readonly high = make('span');
  private all: Histogram | null = null;
  private filtered: Histogram | null = null;
  private brush: Brush = null;
  /** The brush in bins while drawn: first and last bin index. */
  private bins: [number, number] | null = null;
  private format: ValueFormat = String;

  constructor(
    readonly column: string,
    private readonly arrowType: string,
    private readonly onBrush: (column: string, brush: Brush) => void,
  ) {
    const head = make('div', 'hist-head');
    head.append(make('b', '', column), this.stats);
    const axis = make('div', 'hist-axis');
    axis.append(this.low, this.high);
    this.element.append(head, this.canvas, axis);
    this.element.dataset.column = column;
    this.canvas.setAttribute('aria-label', `histogram of ${column}; drag to brush`);
    this.listen();
  }

  /** The histogram of every row, which sets the bins, and the first filtered counts (the same). */
  setAll(histogram: Histogram): void {
    this.all = histogram;
    const edges = histogram.edges;
    this.format = valueFormat(this.arrowType, (edges[edges.length - 1] as number) - (edges[0] as number));
    this.low.textContent = this.format(edges[0] as number);
    this.high.textContent = this.format(edges[edges.length - 1] as number);
    this.element.dataset.edges = JSON.stringify(Array.from(edges));
    this.setFiltered(histogram);
  }

  /** The counts of the rows the other dimensions' brushes keep. */
  setFiltered(histogram: Histogram): void {
    this.filtered = histogram;
    this.element.dataset.counts = JSON.stringify(Array.from(histogram.counts));
    this.element.dataset.rows = String(histogram.rows);
    const nulls = histogram.nulls > 0 ? ` · ${count(histogram.nulls)} null` : '';
    this.stats.textContent = this.bins
      ? `${this.rangeText()} · ${count(this.brushed(histogram, this.bins))} rows`
      : `${count(histogram.rows)} rows${nulls}`;
    this.draw();
  }

  /** Rows of `histogram` inside brushed bins; the end bins' brushes take the rows beyond them too. */
  private brushed(histogram: Histogram, [first, last]: [number, number]): number {
    let rows = 0;
    for (let i = first; i <= last; i++) rows += histogram.counts[i] as number;
    if (first === 0) rows += histogram.below;
    if (last === histogram.counts.length - 1) rows += histogram.above;
    return rows;
  }

  /** Removes the brush (without reporting it). */
  clearBrush(): void {
    this.setBrush(null);
  }

  draw(): void {
    const s = surface(this.canvas);
    const all = this.all;
    if (!s || !all) return;
    const { ctx, width, height } = s;
    const n = all.counts.length;
    const max = Math.max(1, ...all.counts);
    const w = width / n;
    const bar = (i: number, value: number, color: string) => {
      const h = (value / max) * (height - 2);
      ctx.fillStyle = color;
      ctx.fillRect(i * w + 0.5, height - h, Math.max(1, w - 1), h);
    };
    for (let i = 0; i < n; i++) bar(i, all.counts[i] as number, THEME.line);
    const filtered = this.filtered?.counts;
    for (let i = 0; filtered && i < n; i++) {
      const inside = !this.bins || (i >= this.bins[0] && i <= this.bins[1]);
      bar(i, filtered[i] as number, inside ? THEME.accent : '#2b4a6e');
    }
    if (this.bins) {
      const x0 = this.bins[0] * w;
      const x1 = (this.bins[1] + 1) * w;
      ctx.fillStyle = 'rgb(240 182 79 / 0.12)';
      ctx.fillRect(x0, 0, x1 - x0, height);
      ctx.fillStyle = THEME.brush;
      ctx.fillRect(x0, 0, 1.5, height);
      ctx.fillRect(x1 - 1.5, 0, 1.5, height);
    }
  }

  private rangeText(): string {
    if (!this.bins || !this.all) return '';
    const edges = this.all.edges;
    return `${this.format(edges[this.bins[0]] as number)} – ${this.format(edges[this.bins[1] + 1] as number)}`;
  }

  private setBrush(bins: [number, number] | null): void {
    this.bins = bins;
    const edges = this.all?.edges;
    if (!bins || !edges) this.brush = null;
    else {
      const last = edges.length - 2;
      this.brush = [
        bins[0] === 0 ? -Infinity : (edges[bins[0]] as number),
        bins[1] === last ? Infinity : (edges[bins[1] + 1] as number),
      ];
    }
    this.element.dataset.brush = this.brush ? JSON.stringify(this.brush.map(String)) : '';
    if (this.filtered) this.setFiltered(this.filtered);
  }

  /** Pointer drags become brushes in whole bins; each change is reported at once. */
  private listen(): void {
    let start: number | null = null;
    let moved = false;
    const binAt = (event: PointerEvent) => {
      const n = this.all?.counts.length ?? 1;
      const rect = this.canvas.getBoundingClientRect();
      return Math.min(n - 1, Math.max(0, Math.floor(((event.clientX - rect.left) / rect.width) * n)));
    };
    this.canvas.addEventListener('pointerdown', (event) => {
      if (!this.all) return;
      this.canvas.setPointerCapture(event.pointerId);
      start = binAt(event);
      moved = false;
    });
    this.canvas.addEventListener('pointermove', (event) => {
      if (start === null) return;
      const bin = binAt(event);
      if (bin === start && !moved) return;
      moved = true;
      const next: [number, number] = [Math.min(start, bin), Math.max(start, bin)];
      if (this.bins?.[0] === next[0] && this.bins?.[1] === next[1]) return;
      this.setBrush(next);
      this.onBrush(this.column, this.brush);
    });
    const end = () => {
      if (start !== null && !moved) {
        this.setBrush(null);
        this.onBrush(this.column, null);
      }
      start = null;
    };
    this.canvas.addEventListener('pointerup', end);
    this.canvas.addEventListener('pointercancel', end);
  }
}
