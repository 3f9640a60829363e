import type { CrossfilterResult, GpuTable, HistogramOptions } from '../src/index.js';
import { binsFor } from './bins.js';
import { byId, count, setText } from './dom.js';
import { type Brush, HistogramChart } from './histogram-chart.js';

/** The brushes of every dimension, as the crossfilter takes them. */
export type Brushes = Record<string, Brush>;

/**
 * The linked histograms: one chart a column, computed on the GPU by `table.crossfilter`. A brush on one
 * recounts the others over the rows it keeps; while a query runs, newer brushes wait and only the last
 * one is sent (so a fast drag never queues stale work). `onSelection` hears the brushes once the
 * histograms show them (to filter the scatter); the brush-to-update time is shown in the panel.
 */
export class CrossfilterPanel {
  private charts: HistogramChart[] = [];
  private bins: Record<string, HistogramOptions> = {};
  private table: GpuTable | null = null;
  private brushes: Brushes = {};
  private running = false;
  private pending: number | null = null;

  constructor(private readonly onSelection: (table: GpuTable, brushes: Brushes) => Promise<unknown>) {
    byId('clear-brush').addEventListener('click', () => {
      for (const chart of this.charts) chart.clearBrush();
      this.brushes = {};
      this.request(performance.now());
    });
    new ResizeObserver(() => {
      for (const chart of this.charts) chart.draw();
    }).observe(byId('histograms'));
  }

  /** Histograms of `columns` of `table`, with no brush. */
  async show(table: GpuTable, columns: readonly string[]): Promise<void> {
    this.clear();
    this.table = table;
    const types = new Map(table.columns.map((c) => [c.name, c.arrowType]));
    this.charts = columns.map(
      (name) => new HistogramChart(name, types.get(name) ?? '', (column, brush) => this.brush(column, brush)),
    );
    const t0 = performance.now();
    const bins: Record<string, HistogramOptions> = {};
    for (const column of table.columns.filter((c) => columns.includes(c.name)))
      bins[column.name] = await binsFor(table, column);
    if (this.table !== table) return;
    this.bins = bins;
    const result = await table.crossfilter({ dims: this.dims() });
    if (this.table !== table) return;
    byId('histograms').replaceChildren(...this.charts.map((c) => c.element));
    for (const chart of this.charts)
      chart.setAll(result.dims[chart.column] as CrossfilterResult['dims'][string]);
    this.summary(result, `computed in ${(performance.now() - t0).toFixed(0)} ms`);
    byId('histograms').dataset.state = 'idle';
  }

  /** Removes the charts; answers still on their way are dropped. */
  clear(): void {
    this.table = null;
    this.charts = [];
    this.brushes = {};
    this.bins = {};
    this.pending = null;
    const panel = byId('histograms');
    panel.replaceChildren();
    delete panel.dataset.state;
    delete panel.dataset.brushes;
    delete panel.dataset.selected;
    byId<HTMLButtonElement>('clear-brush').disabled = true;
    setText('brush-time', '');
  }

  private dims() {
    return Object.fromEntries(this.charts.map((c) => [c.column, this.bins[c.column] ?? {}]));
  }

  private brush(column: string, brush: Brush): void {
    this.brushes[column] = brush;
    this.request(performance.now());
  }

  /** Sends the brushes now, or after the query in flight (only the newest waits). */
  private request(at: number): void {
    if (this.running) {
      this.pending = at;
      return;
    }
    void this.run(at);
  }

  private async run(at: number): Promise<void> {
    const table = this.table;
    if (!table) return;
    this.running = true;
    const panel = byId('histograms');
    panel.dataset.state = 'busy';
    try {
      const brush = Object.fromEntries(Object.entries(this.brushes).filter(([, b]) => b !== null));
      const result = await table.crossfilter({ dims: this.dims(), brush });
      if (this.table !== table) return;
      // The brushes the counts shown are of (a newer drag may already be waiting).
      panel.dataset.brushes = JSON.stringify(
        Object.fromEntries(Object.entries(brush).map(([k, b]) => [k, (b as [number, number]).map(String)])),
      );
      for (const chart of this.charts)
        chart.setFiltered(result.dims[chart.column] as CrossfilterResult['dims'][string]);
      const histogramsMs = performance.now() - at;
      this.summary(result, `brush → histograms ${histogramsMs.toFixed(0)} ms`);
      byId<HTMLButtonElement>('clear-brush').disabled = Object.keys(brush).length === 0;
      await this.onSelection(table, { ...brush });
      if (this.table === table)
        this.summary(
          result,
          `brush → histograms ${histogramsMs.toFixed(0)} ms · scatter ${(performance.now() - at).toFixed(0)} ms`,
        );
    } catch (error) {
      if (this.table === table) setText('brush-time', `crossfilter failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
      const next = this.pending;
      this.pending = null;
      if (next !== null && this.table === table) void this.run(next);
      else if (this.table === table) panel.dataset.state = 'idle';
    }
  }

  private summary(result: CrossfilterResult, timing: string): void {
    setText('brush-time', `${count(result.selected)} of ${count(result.rows)} rows · ${timing}`);
    byId('histograms').dataset.selected = String(result.selected);
  }
}
