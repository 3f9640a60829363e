import type { GpuFilter, GpuTable, Loader, RenderDomain, RenderSettings, RenderView } from '../src/index.js';
import { byId, make } from './dom.js';

/** The columns a scatter draws. */
export interface ScatterColumns {
  x: string | null;
  y: string | null;
  color: string | null;
}

/**
 * Least time between two redraws while rows stream in, and how many times the last frame's GPU time
 * must pass before the next: drawing then takes at most a third of the GPU while the load uploads (a
 * GPU draws millions of points in milliseconds; a CPU rasteriser such as SwiftShader takes seconds).
 */
const GROW_INTERVAL_MS = 150;
const GROW_FRAME_FACTOR = 2;
/** Extra room around the first rows' extent while the table grows (their extent is the default domain). */
const GROW_PADDING = 0.05;

/**
 * The scatter: a `<canvas>` handed to the worker as an OffscreenCanvas, where `loader.render` draws the
 * table's rows straight from their GPU buffers. A view draws the rows its table had when it was made,
 * and a canvas can be handed over only once, so while rows stream in each redraw is a new view on a new
 * canvas laid over the last one, which goes once the new one is drawn (at most one redraw at a time,
 * the newest rows each time; the domain stays that of the first rows so that points do not jump). Once
 * the load is done a last view takes the columns' whole extent. `clear` puts a blank canvas back: no
 * point of an earlier table can remain.
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

  /** More rows landed: redraw soon (coalesced with any redraw under way). */
  grow(): void {
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
    await this.call((view) => view.update({ filter }));
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
    for (const stale of byId('plot').querySelectorAll('canvas')) stale.remove();
    const blank = this.makeCanvas();
    blank.id = 'scatter';
    this.canvas = blank;
  }

  /** Runs redraws while some are wanted, one at a time, `GROW_INTERVAL_MS` apart while growing. */
  private pump(): Promise<void> {
    this.running ??= (async () => {
      while (this.pending) {
        const final = this.pendingFinal;
        this.pending = false;
        this.pendingFinal = false;
        await this.redraw(final).catch((error) => this.onError(error));
        if (this.pending && !this.pendingFinal) {
          const frameMs = this.view?.state.frameMs ?? 0;
          const wait = Math.max(GROW_INTERVAL_MS, GROW_FRAME_FACTOR * frameMs);
          await this.nap(wait);
        }
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits `ms`, or less if the final redraw is asked for meanwhile. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = performance.now() + ms;
      const tick = () => (this.pendingFinal || performance.now() >= end ? resolve() : setTimeout(tick, 50));
      tick();
    });
  }

  /** A new view of the rows landed so far, on a canvas laid over the current one, which then goes. */
  private async redraw(final: boolean): Promise<void> {
    const drawing = this.drawing;
    const generation = this.generation;
    if (!drawing || drawing.table.numRows === 0) return;
    const rows = drawing.table.numRows;
    const { width, height, ratio } = size();
    const canvas = this.makeCanvas();
    canvas.width = Math.max(1, Math.round(width * ratio));
    canvas.height = Math.max(1, Math.round(height * ratio));
    let view: RenderView;
    try {
      view = await drawing.loader.render(canvas.transferControlToOffscreen(), {
        table: drawing.table,
        ...drawn(drawing.columns),
        // One device pixel a point: millions of them still fill the plot, and it is the cheapest to draw.
        size: 1 / ratio,
        opacity: 0.5,
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
    if (!final && !this.domain) this.domain = padded(view.domain);
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
    const canvas = make('canvas', 'scatter-canvas');
    canvas.setAttribute('aria-label', 'scatter of the loaded rows, drawn in the worker');
    byId('plot').insertBefore(canvas, byId('scatter-note'));
    return canvas;
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

/** A domain widened by `GROW_PADDING` of its span on each side. */
function padded(domain: RenderView['domain']): RenderDomain {
  const pad = ([lo, hi]: [number, number]): [number, number] => {
    const d = (hi - lo) * GROW_PADDING;
    return [lo - d, hi + d];
  };
  return { x: pad(domain.x), y: pad(domain.y), ...(domain.color ? { color: domain.color } : {}) };
}
