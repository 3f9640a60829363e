import type { GpuTable, Loader } from '../src/index.js';
import { type Brushes, CrossfilterPanel } from './crossfilter-panel.js';
import { byId } from './dom.js';
import { showLegend } from './legend.js';
import type { Choice } from './pickers.js';
import { Scatter, type ScatterColumns } from './scatter.js';

/** The scatter and the histograms of the current table, and the note over the scatter. */
export class Views {
  private readonly scatter = new Scatter();
  private readonly crossfilter = new CrossfilterPanel((table, brushes) => this.select(table, brushes));
  private table: GpuTable | null = null;

  /** Removes everything drawn from a table. */
  clear(): void {
    this.table = null;
    this.scatter.clear();
    this.crossfilter.clear();
    byId('legend').replaceChildren();
    this.note('');
  }

  /** Before the first batch: the columns chosen from the schema. */
  prepare(_choice: Choice): void {
    this.note('Waiting for the first batch…');
  }

  /** Draws a loaded table: the scatter, then the histograms of `histograms`. */
  async show(loader: Loader, table: GpuTable, choice: ScatterColumns, histograms: readonly string[]) {
    this.table = table;
    const view = await this.scatter.show(loader, table, choice);
    if (!view || this.table !== table) return;
    this.note('');
    await showLegend(table, choice.color, view.domain.color);
    if (this.table === table) await this.crossfilter.show(table, histograms);
  }

  /** The brushes changed: the scatter shows the rows they keep. */
  private async select(_table: GpuTable, _brushes: Brushes): Promise<void> {}

  /** The user picked other columns. */
  async choose(choice: ScatterColumns): Promise<void> {
    const table = this.table;
    const state = await this.scatter.choose(choice);
    if (table && state && this.table === table && this.scatter.current)
      await showLegend(table, choice.color, this.scatter.current.domain.color);
  }

  /** A line over the scatter (empty: none). */
  note(text: string, error = false): void {
    const note = byId('scatter-note');
    note.textContent = text;
    note.className = error ? 'overlay error' : 'overlay';
  }
}
