import type { DeviceColumnInfo, GpuFilter, GpuTable, Range } from '../src/index.js';
import { byId } from './dom.js';
import { PagePoints, type PointColumns, type PointDomain } from './page-points.js';
import { kindOf } from './page-points-wgsl.js';
import { plotCanvas, type ScatterColumns } from './scatter.js';

/** Who draws the page's canvas (its label). */
const WHERE = 'on this page’s device, by the page';

/** Extra room around the first rows' extent while the table grows, as the worker's scatter leaves. */
const GROW_PADDING = 0.05;
/** While rows land, a redraw waits this many times the last one's length: drawing takes a fifth at most. */
const PACE = 4;

/**
 * The scatter in the page's-device mode: the table's buffers live on this page's device, so the page
 * draws them itself (`PagePoints`) on a `<canvas>` of its own, on the main thread. While the table fills,
 * points are redrawn over the first rows' extent (paced, so that drawing never crowds out the upload on
 * this thread); once it is complete, over the columns' whole extent (`table.describe`, a query on this
 * device). A brush cannot dim the points here: a filter's row mask is the loader's, not a buffer the
 * page can bind, and `onNote` says so.
 */
export class PageScatter {
  private readonly points: PagePoints;
  private canvas: HTMLCanvasElement;
  private context: GPUCanvasContext | null = null;
  private drawing: { table: GpuTable; columns: ScatterColumns } | null = null;
  private domain: PointDomain | null = null;
  private shown: { domain: PointDomain } | null = null;
  private generation = 0;
  private running: Promise<void> | null = null;
  private pending = false;
  private lastMs = 0;
  /** The table is complete: redraws are no longer paced. */
  private complete = false;
  /** Ends the wait between two redraws of a growing table (the table completed, or went). */
  private wake: () => void = () => {};

  /** `onDrawn(rows)` hears each redraw, `onError` one that failed, `onNote` a limit of this mode. */
  constructor(
    device: GPUDevice,
    private readonly onDrawn: (rows: number) => void,
    private readonly onError: (error: unknown) => void,
    private readonly onNote: (text: string) => void,
  ) {
    this.points = new PagePoints(device);
    this.canvas = plotCanvas(WHERE);
    // A canvas stretched to a new size would blur its one-pixel points: it is drawn again at that size.
    new ResizeObserver(() => {
      if (!this.shown) return;
      this.pending = true;
      void this.pump(this.complete);
    }).observe(byId('plot'));
  }

  /** The domain of the points on screen (for the legend); `null` before the first draw. */
  get current(): { domain: PointDomain } | null {
    return this.shown;
  }

  /** Starts drawing `table`, a table on the page's device (nothing shows until it has rows). */
  start(_loader: unknown, table: GpuTable, columns: ScatterColumns): void {
    this.clear();
    this.drawing = { table, columns };
  }

  /** More rows landed: a redraw, once the one before it is done and the pace allows. */
  grow(): void {
    this.pending = true;
    void this.pump(false);
  }

  /** The table is complete: a last draw over the columns' whole extent; resolves once it is drawn. */
  async finish(): Promise<void> {
    this.pending = false;
    this.wake();
    await this.running;
    this.complete = true;
    this.domain = null;
    this.pending = true;
    await this.pump(true);
  }

  /** Draws other columns, over their whole extent. */
  async choose(columns: ScatterColumns): Promise<void> {
    if (!this.drawing) return;
    this.drawing.columns = columns;
    await this.finish();
  }

  /** A filter cannot reach this pipeline: every row stays drawn, and the page says why. */
  async setFilter(filter: GpuFilter | null): Promise<void> {
    if (filter)
      this.onNote(
        "Brushes recount the histograms; on this page's device the scatter shows every row: a filter's row mask is the loader's, with no buffer to bind.",
      );
  }

  /** Stops drawing and puts a blank canvas in place of the drawn one. */
  clear(): void {
    this.generation++;
    this.drawing = null;
    this.domain = null;
    this.shown = null;
    this.complete = false;
    this.pending = false;
    this.context?.unconfigure();
    this.context = null;
    this.wake();
    this.canvas = plotCanvas(WHERE);
  }

  private pump(final: boolean): Promise<void> {
    this.running ??= (async () => {
      while (this.pending) {
        this.pending = false;
        const generation = this.generation;
        await this.redraw(final).catch((error) => {
          if (generation === this.generation) this.onError(error);
        });
        if (!final && this.pending) await this.pace();
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits `PACE` times the last draw's length, or until woken. */
  private pace(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, PACE * this.lastMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async redraw(final: boolean): Promise<void> {
    const drawing = this.drawing;
    const generation = this.generation;
    const rows = drawing?.table.numRows ?? 0;
    if (!drawing || rows === 0) return;
    const columns = pick(drawing.table, drawing.columns);
    if (typeof columns === 'string') {
      this.onNote(columns);
      return;
    }
    this.domain ??= await domainOf(drawing.table, columns, final ? 0 : GROW_PADDING);
    if (generation !== this.generation || !this.domain) return;
    const t0 = performance.now();
    // The device pixels the canvas covers once its edges are snapped to them: one texel each, no blur.
    const box = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const snap = (v: number) => Math.round(v * ratio);
    this.canvas.width = Math.max(1, snap(box.right) - snap(box.left));
    this.canvas.height = Math.max(1, snap(box.bottom) - snap(box.top));
    this.context ??= this.points.context(this.canvas);
    await this.points.draw(this.context, columns, this.domain, rows, 0.5);
    this.lastMs = performance.now() - t0;
    if (generation !== this.generation) return;
    this.shown = { domain: this.domain };
    Object.assign(this.canvas.dataset, {
      drawn: 'true',
      rows: String(rows),
      width: String(this.canvas.width),
      height: String(this.canvas.height),
      domain: JSON.stringify({ x: this.domain.x, y: this.domain.y }),
    });
    this.onDrawn(rows);
  }
}

/** The table's columns to draw, with their buffers, or why this pipeline cannot draw them. */
function pick(table: GpuTable, chosen: ScatterColumns): PointColumns | string {
  const column = (name: string | null) =>
    (table.columns.find((c) => c.name === name) as DeviceColumnInfo | undefined) ?? null;
  const [x, y, color] = [column(chosen.x), column(chosen.y), column(chosen.color)];
  if (!x || !y) return 'Pick an x and a y column.';
  for (const [c, asColor] of [
    [x, false],
    [y, false],
    [color, true],
  ] as const) {
    if (c && kindOf(c, asColor) === null)
      return `This page's pipeline draws 32-bit columns (f32, i32, u32; dictionary or bool for colour): ${c.name} is ${c.encoding}. Pick another, or the worker's device.`;
  }
  return { x, y, color };
}

/**
 * The x, y (and numeric colour) extent of the rows landed so far, from `table.describe` on the page's
 * device, widened by `padding` on each side; `null` when a column has no value yet.
 */
async function domainOf(
  table: GpuTable,
  columns: PointColumns,
  padding: number,
): Promise<PointDomain | null> {
  const extent = async (column: DeviceColumnInfo): Promise<Range | null> => {
    const { min, max } = await table.describe(column.name);
    if (min === null || max === null) return null;
    const [lo, hi] = [Number(min), Number(max)];
    const pad = (hi - lo) * padding || (hi === lo ? 0.5 : 0);
    return [lo - pad, hi + pad];
  };
  const [x, y] = [await extent(columns.x), await extent(columns.y)];
  const numeric = columns.color && !['dictionary', 'bool'].includes(columns.color.encoding);
  const color = numeric && columns.color ? await extent(columns.color) : null;
  return x && y ? { x, y, color } : null;
}
