import type { GpuTable, Loader, RenderSettings, RenderState, RenderView } from '../src/index.js';
import { byId, make } from './dom.js';

/** The columns a scatter draws. */
export interface ScatterColumns {
  x: string | null;
  y: string | null;
  color: string | null;
}

/**
 * The scatter: a `<canvas>` handed to the worker as an OffscreenCanvas, where `loader.render` draws the
 * table's rows straight from their GPU buffers. A canvas can be transferred only once, so every table
 * gets a fresh element, and `clear` swaps in a blank one: no point of an earlier table can remain.
 * Size and pixel ratio follow the element (ResizeObserver); calls to the view run one at a time.
 */
export class Scatter {
  private view: RenderView | null = null;
  private canvas = byId<HTMLCanvasElement>('scatter');
  private queue: Promise<unknown> = Promise.resolve();
  private generation = 0;
  private readonly observer = new ResizeObserver(() => this.fit());

  constructor() {
    this.observer.observe(byId('plot'));
  }

  /** The view once drawn (for the brush and the tests); `null` before. */
  get current(): RenderView | null {
    return this.view;
  }

  /** Draws `table` with `columns`; resolves once the first frame is drawn. */
  async show(loader: Loader, table: GpuTable, columns: ScatterColumns, settings: RenderSettings = {}) {
    this.clear();
    const generation = this.generation;
    const { width, height, ratio } = this.size();
    this.canvas.width = Math.max(1, Math.round(width * ratio));
    this.canvas.height = Math.max(1, Math.round(height * ratio));
    const offscreen = this.canvas.transferControlToOffscreen();
    const view = await loader.render(offscreen, {
      table,
      ...drawn(columns),
      // One device pixel a point: millions of them still fill the plot, and it is the cheapest to draw.
      size: 1 / ratio,
      opacity: 0.5,
      pixelRatio: ratio,
      ...settings,
    });
    if (generation !== this.generation) {
      await view.destroy().catch(() => {});
      return null;
    }
    this.view = view;
    this.canvas.dataset.drawn = 'true';
    this.mark(view.state);
    return view;
  }

  /** Draws other columns (a column changed gets its extent as domain). */
  update(settings: RenderSettings): Promise<unknown> {
    return this.enqueue((view) => view.update(settings));
  }

  /** Changes the columns drawn. */
  choose(columns: ScatterColumns): Promise<unknown> {
    return this.update(drawn(columns));
  }

  /** Frees the view and puts a blank canvas in its place. */
  clear(): void {
    this.generation++;
    const view = this.view;
    this.view = null;
    this.queue = Promise.resolve();
    if (view) void view.destroy().catch(() => {});
    const blank = make('canvas');
    blank.id = 'scatter';
    blank.setAttribute('aria-label', this.canvas.getAttribute('aria-label') ?? '');
    this.canvas.replaceWith(blank);
    this.canvas = blank;
  }

  private size() {
    const plot = byId('plot');
    return { width: plot.clientWidth, height: plot.clientHeight, ratio: window.devicePixelRatio || 1 };
  }

  private fit(): void {
    const { width, height, ratio } = this.size();
    if (width > 0 && height > 0) {
      this.enqueue((view) => view.resize(width, height, ratio))
        .then((state) => state && this.mark(state))
        .catch(() => {});
    }
  }

  /** The canvas's size in device pixels, as the worker last drew it (for tests and the curious). */
  private mark(state: RenderState): void {
    this.canvas.dataset.width = String(state.width);
    this.canvas.dataset.height = String(state.height);
  }

  /** Runs `call` on the view after the calls before it (skipped when the view changed meanwhile); rejects as it does. */
  private enqueue<T>(call: (view: RenderView) => Promise<T>): Promise<T | null> {
    const generation = this.generation;
    const result = this.queue.then(() =>
      this.view && generation === this.generation ? call(this.view) : null,
    );
    this.queue = result.catch(() => null);
    return result;
  }
}

function drawn(columns: ScatterColumns): RenderSettings {
  const settings: RenderSettings = { color: columns.color };
  if (columns.x) settings.x = columns.x;
  if (columns.y) settings.y = columns.y;
  return settings;
}
