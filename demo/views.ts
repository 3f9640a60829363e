import type { GpuFilter, GpuTable, Loader, Predicate, Range } from '../src/index.js';
import { type Brushes, CrossfilterPanel } from './crossfilter-panel.js';
import { byId, setText } from './dom.js';
import { showLegend } from './legend.js';
import { describeError } from './message.js';
import { PageScatter } from './page-scatter.js';
import { Scatter, type ScatterColumns } from './scatter.js';

/** A scatter: drawn by the worker (`Scatter`) or, on the page's device, by the page (`PageScatter`). */
type ScatterView = Pick<Scatter, 'start' | 'grow' | 'finish' | 'choose' | 'setFilter' | 'clear'> & {
  readonly current: { domain: { color: Range | null } } | null;
};

/**
 * The scatter, its legend and the linked histograms of the current table, and the note over the
 * scatter. While a table streams in, the scatter redraws as rows land; once it is complete the
 * histograms are computed, and brushing them filters the scatter too (a `table.filter` of the brushes,
 * drawn with `view.filter`).
 */
export class Views {
  private readonly workerScatter = new Scatter(
    (rows) => this.drawn(rows),
    (error) => this.failed(error),
  );
  private scatter: ScatterView = this.workerScatter;
  private device: GPUDevice | null = null;
  private readonly crossfilter = new CrossfilterPanel((table, brushes) => this.select(table, brushes));
  private table: GpuTable | null = null;
  private filter: GpuFilter | null = null;
  private startedAt = 0;

  /** The GPU is emulated on the CPU: the note says why points come slowly. */
  software = false;

  /** Draws the scatter in the worker (`null`), or with the page's own pipeline on its `device`. */
  useDevice(device: GPUDevice | null): void {
    if (device === this.device) return;
    this.clear();
    this.device = device;
    this.scatter = device
      ? new PageScatter(
          device,
          (rows) => this.drawn(rows),
          (error) => this.failed(error),
          (text) => this.note(text),
        )
      : this.workerScatter;
    this.scatter.clear();
  }

  /** Removes everything drawn from a table. */
  clear(): void {
    this.table = null;
    const filter = this.filter;
    this.filter = null;
    if (filter) void filter.destroy().catch(() => {});
    this.scatter.clear();
    this.crossfilter.clear();
    byId('legend').replaceChildren();
    setText('first-drawn', '–');
    this.note('');
  }

  /** A table opened at `startedAt` (performance.now()): its rows are drawn as they land. */
  begin(loader: Loader, table: GpuTable, columns: ScatterColumns, startedAt: number): void {
    this.clear();
    this.table = table;
    this.startedAt = startedAt;
    this.scatter.start(loader, table, columns);
    this.note(
      this.software
        ? 'The GPU is emulated on the CPU here: points are redrawn as rows land, a fifth of the time at most.'
        : 'Waiting for the first batch…',
    );
    if (table.numRows > 0) this.scatter.grow();
  }

  /** More rows landed. */
  grow(): void {
    this.scatter.grow();
  }

  /** The table is complete: the last scatter over the whole extent, its legend, then the histograms. */
  async finish(table: GpuTable, columns: ScatterColumns, histograms: readonly string[]): Promise<void> {
    await this.scatter.finish();
    const view = this.scatter.current;
    if (this.table !== table || !view) return;
    await showLegend(table, columns.color, view.domain.color);
    if (this.table === table) await this.crossfilter.show(table, histograms);
  }

  /** The user picked other columns. */
  async choose(columns: ScatterColumns): Promise<void> {
    const table = this.table;
    await this.scatter.choose(columns);
    const view = this.scatter.current;
    if (table && view && this.table === table) await showLegend(table, columns.color, view.domain.color);
  }

  /** A line over the scatter (empty: none). */
  note(text: string, error = false): void {
    const note = byId('scatter-note');
    note.textContent = text;
    note.className = error ? 'overlay error' : 'overlay';
  }

  private failed(error: unknown): void {
    this.note(`The scatter could not be drawn: ${describeError(error).message}`, true);
  }

  private drawn(rows: number): void {
    if (byId('first-drawn').textContent === '–')
      setText('first-drawn', (performance.now() - this.startedAt).toFixed(0));
    if (rows > 0) this.note('');
  }

  /** The brushes changed: the scatter draws the rows that pass all of them (the others dimmed). */
  private async select(table: GpuTable, brushes: Brushes): Promise<void> {
    const ranges: Predicate[] = Object.entries(brushes).flatMap(([column, brush]) =>
      brush ? [{ column, range: [brush[0], brush[1]] as [number, number] }] : [],
    );
    const filter = ranges.length > 0 ? await table.filter({ and: ranges }) : null;
    if (this.table !== table) {
      await filter?.destroy();
      return;
    }
    const previous = this.filter;
    this.filter = filter;
    await this.scatter.setFilter(filter);
    await previous?.destroy().catch(() => {});
  }
}
