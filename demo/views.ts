import type { GpuTable } from '../src/index.js';
import { byId, count } from './dom.js';
import type { Choice } from './pickers.js';

/** The scatter and the histograms of the current table. */
export class Views {
  private table: GpuTable | null = null;

  /** Removes everything drawn from a table. */
  clear(): void {
    this.table = null;
    byId('legend').replaceChildren();
    byId('histograms').replaceChildren();
    this.note('');
  }

  /** Before the first batch: the columns chosen from the schema. */
  prepare(_choice: Choice): void {
    this.note('Waiting for the first batch…');
  }

  /** Draws a loaded table. */
  async show(table: GpuTable, _choice: Pick<Choice, 'x' | 'y' | 'color'>): Promise<void> {
    this.table = table;
    this.note(`${count(table.numRows)} rows on the GPU.`);
  }

  /** The user picked other columns. */
  choose(_choice: Pick<Choice, 'x' | 'y' | 'color'>): void {}

  /** A line over the scatter (empty: none). */
  note(text: string, error = false): void {
    const note = byId('scatter-note');
    note.textContent = text;
    note.className = error ? 'overlay error' : 'overlay';
  }
}
