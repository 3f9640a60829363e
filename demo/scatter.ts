import type { GpuFilter, GpuTable, Loader, RenderDomain, RenderSettings, RenderView } from '../src/index.js';
import { byId, make } from './dom.js';

/** The columns a scatter draws. */
export interface ScatterColumns {
  x: string | null;
  y: string | null;
  color: string | null;
}

/** Extra room around the first rows' extent while the table grows (their extent is the default domain). */
const GROW_PADDING = 0.05;

/**
 * The scatter: a `<canvas>` handed to the worker as an OffscreenCanvas, where `loader.render` draws the
 * table's rows straight from their GPU buffers. The view is made once the first rows land, over their
 * extent (so that points do not jump), and the worker redraws it as more rows land, paced so that
 * drawing never crowds out the load. A canvas can be handed over only once, so once the load is done a
 * last view over the columns' whole extent takes a new canvas laid over the first, which then goes.
 * `clear` puts a blank canvas back: no point of an earlier table can remain.
 */
export class Scatter {
  private view: RenderView | null = null;
  private canvas = byId<HTMLCanvasElement>('scatter');
  private generation = 0;
  private drawing: { loader: Loader; table: GpuTable; columns: ScatterColumns } | null = null;
  private domain: RenderDomain | undefined;
  private filter: GpuFilter | null = null;
  private pending = false;
  private pendingFinal = false;
  private running: Promise<void> | null = null;
  private serial: Promise<unknown> = Promise.resolve();

  /** `onDrawn(rows)` hears each redraw; `onError` a redraw that failed. */
  constructor(
    private readonly onDrawn: (rows: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    new ResizeObserver(() => this.fit()).observe(byId('plot'));
  }

  /** The view on screen (for the tests and the curious); `null` before the first rows are drawn. */
  get current(): RenderView | null {
    return this.view;
  }

  /** Starts drawing `table` (nothing shows until it has rows): `grow` and `finish` redraw it. */
  start(loader: Loader, table: GpuTable, columns: ScatterColumns): void {
    this.clear();
    this.drawing = { loader, table, columns };
  }

  /** More rows landed: the first make the view; the worker draws the later ones in it. */
  grow(): void {
    const rows = this.drawing?.table.numRows ?? 0;
    if (this.view && this.canvas.dataset.drawn === 'true') this.canvas.dataset.rows = String(rows);
    if (this.view || rows === 0) return;
    this.pending = true;
    void this.pump();
  }

  /** The table is complete: a last redraw over the columns' whole extent; resolves once it is drawn. */
  finish(): Promise<void> {
    this.pending = true;
    this.pendingFinal = true;
    this.domain = undefined;
    return this.pump();
  }

  /** Draws other columns (their extent as domain). */
  async choose(columns: ScatterColumns): Promise<void> {
    if (!this.drawing) return;
    this.drawing.columns = columns;
    this.domain = undefined;
    await this.call((view) => view.update(drawn(columns)));
  }

  /** Draws only the rows `filter` keeps (the others dimmed), or every row (`null`). */
  async setFilter(filter: GpuFilter | null): Promise<void> {
    this.filter = filter;
    // Rows outside a filter are dimmed to a fifth: those inside are drawn more opaque, to stand out.
    await this.call((view) => view.update({ filter, opacity: opacityWith(filter) }));
  }

  /** Frees the view and puts a blank canvas in its place; redraws under way are dropped. */
  clear(): void {
    this.generation++;
    this.drawing = null;
    this.domain = undefined;
    this.filter = null;
    this.pending = false;
    this.pendingFinal = false;
    const view = this.view;
    this.view = null;
    if (view) void view.destroy().catch(() => {});
    this.canvas = plotCanvas();
  }

  /** Makes the views wanted (the first, the last), one at a time. */
  private pump(): Promise<void> {
    this.running ??= (async () => {
      while (this.pending) {
        const final = this.pendingFinal;
        this.pending = false;
        this.pendingFinal = false;
        await this.redraw(final).catch((error) => this.onError(error));
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** A new view of the rows landed so far, on a canvas laid over the current one, which then goes. */
  private async redraw(final: boolean): Promise<void> {
    const drawing = this.drawing;
    const generation = this.generation;
    if (!drawing || drawing.table.numRows === 0 || (this.view && !final)) return;
    const rows = drawing.table.numRows;
    const { width, height, ratio } = size();
    const canvas = this.makeCanvas();
    canvas.width = Math.max(1, Math.round(width * ratio));
    canvas.height = Math.max(1, Math.round(height * ratio));
    let view: RenderView;
    try {
      // While rows stream in, the first rows' extent, found on the CPU, saves two GPU queries a redraw.
      if (!final && !this.domain) this.domain = await extentOf(drawing.table, drawing.columns);
      if (generation !== this.generation) throw new Error('superseded');
      view = await drawing.loader.render(canvas.transferControlToOffscreen(), {
        table: drawing.table,
        ...drawn(drawing.columns),
        // One device pixel a point: millions of them still fill the plot, and it is the cheapest to draw.
        size: 1 / ratio,
        opacity: opacityWith(this.filter),
        pixelRatio: ratio,
        ...(this.domain && !final ? { domain: this.domain } : {}),
        ...(this.filter ? { filter: this.filter } : {}),
      });
    } catch (error) {
      canvas.remove();
      if (generation === this.generation) throw error;
      return;
    }
    if (generation !== this.generation) {
      canvas.remove();
      await view.destroy().catch(() => {});
      return;
    }
    // Without an f32 extent, later redraws keep the one the view found.
    if (!final && !this.domain) this.domain = { x: view.domain.x, y: view.domain.y };
    this.swap(canvas, view, rows);
  }

  private swap(canvas: HTMLCanvasElement, view: RenderView, rows: number): void {
    const old = this.view;
    this.canvas.remove();
    if (old) void old.destroy().catch(() => {});
    canvas.id = 'scatter';
    canvas.dataset.drawn = 'true';
    canvas.dataset.rows = String(rows);
    canvas.dataset.width = String(view.state.width);
    canvas.dataset.height = String(view.state.height);
    this.canvas = canvas;
    this.view = view;
    this.onDrawn(rows);
  }

  private makeCanvas(): HTMLCanvasElement {
    return layCanvas('scatter of the loaded rows, drawn in the worker');
  }

  private fit(): void {
    const { width, height, ratio } = size();
    if (width === 0 || height === 0) return;
    this.call(async (view) => {
      const state = await view.resize(width, height, ratio);
      if (view === this.view) {
        this.canvas.dataset.width = String(state.width);
        this.canvas.dataset.height = String(state.height);
      }
    }).catch(() => {});
  }

  /** Runs `call` on the view on screen after the calls before it; nothing when there is none. */
  private call(call: (view: RenderView) => Promise<unknown>): Promise<void> {
    const next = this.serial.then(async () => {
      if (this.view) await call(this.view);
    });
    this.serial = next.catch(() => {});
    return next;
  }
}

/**
 * A blank `#scatter` in place of every canvas of the plot: nothing drawn before stays. `where` says who
 * draws on it (its label).
 */
export function plotCanvas(where = 'in the worker'): HTMLCanvasElement {
  for (const stale of byId('plot').querySelectorAll('canvas')) stale.remove();
  const canvas = layCanvas(`scatter of the loaded rows, drawn ${where}`);
  canvas.id = 'scatter';
  return canvas;
}

function layCanvas(label: string): HTMLCanvasElement {
  const canvas = make('canvas', 'scatter-canvas');
  canvas.setAttribute('aria-label', label);
  byId('plot').insertBefore(canvas, byId('scatter-note'));
  return canvas;
}

/** Points' opacity: half, or nearly whole while a filter dims the rows outside it. */
function opacityWith(filter: GpuFilter | null): number {
  return filter ? 0.9 : 0.5;
}

function size() {
  const plot = byId('plot');
  return { width: plot.clientWidth, height: plot.clientHeight, ratio: window.devicePixelRatio || 1 };
}

function drawn(columns: ScatterColumns): RenderSettings {
  const settings: RenderSettings = { color: columns.color };
  if (columns.x) settings.x = columns.x;
  if (columns.y) settings.y = columns.y;
  return settings;
}

/**
 * The x and y extent of the rows landed so far, widened by `GROW_PADDING` on each side, read back and
 * scanned on the CPU (cheaper than two GPU queries while the GPU uploads); `undefined` unless both are
 * `f32` columns with a finite value (the view then finds its own extents).
 */
async function extentOf(table: GpuTable, columns: ScatterColumns): Promise<RenderDomain | undefined> {
  const ranges: [number, number][] = [];
  for (const name of [columns.x, columns.y]) {
    const column = table.columns.find((c) => c.name === name);
    if (!name || column?.encoding !== 'f32') return undefined;
    const values = (await table.readColumn(name)) as Float32Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(Number.isFinite(lo) && Number.isFinite(hi))) return undefined;
    const pad = (hi - lo) * GROW_PADDING || 0.5;
    ranges.push([lo - pad, hi + pad]);
  }
  return { x: ranges[0] as [number, number], y: ranges[1] as [number, number] };
}
