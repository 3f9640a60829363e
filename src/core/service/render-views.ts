import { ArgumentError, type ArrowGpuError, ColumnError } from '../errors.js';
import type { RenderSettings, RenderState } from '../gpu/render/render-settings.js';
import { CanvasTarget, isCanvasLike } from '../gpu/render/render-target.js';
import { ViewRenderer, type ViewSource } from '../gpu/render/view-renderer.js';

/** A view's state and the id its calls name it by. */
export type ViewInfo = RenderState & { viewId: number };

interface LiveView {
  tableId: number;
  view: ViewRenderer;
  /** The filter whose mask the view reads (or is about to). */
  filter: ViewFilter;
}

/** A filter of the view's table and its row mask (`null`, `null`: every row). */
export interface ViewFilter {
  filterId: number | null;
  mask: GPUBuffer | null;
}

/**
 * The render views of the worker, by id, each tied to the table it draws: destroying the table destroys
 * its views. A call on a destroyed view fails with why it went (`NO_SUCH_COLUMN` when its table was
 * destroyed, `INVALID_ARGUMENT` when the view itself was).
 */
export class RenderViews {
  readonly #views = new Map<number, LiveView>();
  readonly #gone = new Map<number, () => ArrowGpuError>();
  #nextId = 1;

  /**
   * Draws table `tableId` (read through `source`) on `canvas` in `format`. The table may be destroyed
   * while the view is made: `alive` is asked once it is, and a view of a destroyed table is not kept.
   */
  async create(
    tableId: number,
    canvas: unknown,
    format: GPUTextureFormat,
    source: ViewSource,
    settings: RenderSettings,
    filter: ViewFilter,
    alive: () => boolean,
  ): Promise<ViewInfo> {
    if (!isCanvasLike(canvas)) {
      throw new ArgumentError(
        'render: canvas must be an OffscreenCanvas (from canvas.transferControlToOffscreen())',
        { option: 'canvas' },
      );
    }
    const target = new CanvasTarget(canvas, source.device, format);
    let view: ViewRenderer;
    try {
      view = await ViewRenderer.create(source, target, settings, filter.mask);
    } catch (error) {
      target.destroy();
      throw error;
    }
    if (!alive()) {
      view.destroy();
      throw tableGone(tableId);
    }
    const viewId = this.#nextId++;
    this.#views.set(viewId, { tableId, view, filter });
    return { viewId, ...view.state };
  }

  /** The live view `viewId`; why it is gone otherwise. */
  view(viewId: number): ViewRenderer {
    return this.#live(viewId).view;
  }

  /** The table a live view draws. */
  tableOf(viewId: number): number {
    return this.#live(viewId).tableId;
  }

  #live(viewId: number): LiveView {
    const live = this.#views.get(viewId);
    if (live) return live;
    const gone = this.#gone.get(viewId);
    if (gone) throw gone();
    throw new ArgumentError(`render: there is no view ${viewId}`, { option: 'view' });
  }

  /** Table `tableId` has more rows (its load landed a batch): its views draw them soon. */
  grew(tableId: number): void {
    for (const live of this.#views.values()) if (live.tableId === tableId) live.view.grew();
  }

  /** Every live view, oldest first. */
  all(): ViewRenderer[] {
    return [...this.#views.values()].map((v) => v.view);
  }

  /** Applies `settings` and, when given, a new filter, then draws. */
  async update(viewId: number, settings: RenderSettings, filter?: ViewFilter): Promise<ViewInfo> {
    const live = this.#live(viewId);
    const previous = live.filter;
    // Noted before the frame, so that a destroy of the filter meanwhile reaches this view too.
    if (filter) live.filter = filter;
    try {
      return { viewId, ...(await live.view.update(settings, filter?.mask)) };
    } catch (error) {
      if (live.filter === filter) live.filter = previous;
      throw error;
    } finally {
      // The filter was destroyed meanwhile (or the update failed): the view does not keep its mask.
      if (filter?.mask && live.filter !== filter) live.view.clearMask(filter.mask);
    }
  }

  /** Views reading the mask of filter `filterId` of table `tableId` let go of it (it is being destroyed). */
  dropFilter(tableId: number, filterId: number): void {
    for (const live of this.#views.values()) {
      if (live.tableId !== tableId || live.filter.filterId !== filterId) continue;
      if (live.filter.mask) live.view.clearMask(live.filter.mask);
      live.filter = { filterId: null, mask: null };
    }
  }

  async resize(viewId: number, width: number, height: number, pixelRatio?: number): Promise<ViewInfo> {
    return { viewId, ...(await this.view(viewId).resize(width, height, pixelRatio)) };
  }

  /** Destroys a view; a second call is a no-op. */
  destroy(viewId: number): void {
    this.#drop(viewId, () => new ArgumentError(`render: view ${viewId} was destroyed`, { option: 'view' }));
  }

  /** Destroys the views of table `tableId` (the table is being destroyed). */
  destroyTable(tableId: number): void {
    for (const [viewId, live] of [...this.#views]) {
      if (live.tableId === tableId) this.#drop(viewId, () => tableGone(tableId));
    }
  }

  /** Destroys every view. */
  destroyAll(): void {
    for (const [viewId, live] of [...this.#views]) this.#drop(viewId, () => tableGone(live.tableId));
  }

  #drop(viewId: number, why: () => ArrowGpuError): void {
    const live = this.#views.get(viewId);
    if (!live) return;
    this.#views.delete(viewId);
    this.#gone.set(viewId, why);
    live.view.destroy(why);
  }
}

function tableGone(tableId: number): ColumnError {
  return new ColumnError(
    'NO_SUCH_COLUMN',
    `Table ${tableId} was destroyed, and its render views with it`,
    {},
  );
}
