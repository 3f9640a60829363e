import { ArgumentError, type ArrowGpuError, ColumnError } from '../errors.js';
import type { RenderSettings, RenderState } from '../gpu/render/render-settings.js';
import { CanvasTarget, isCanvasLike } from '../gpu/render/render-target.js';
import { ViewRenderer, type ViewSource } from '../gpu/render/view-renderer.js';

/** A view's state and the id its calls name it by. */
export type ViewInfo = RenderState & { viewId: number };

interface LiveView {
  tableId: number;
  view: ViewRenderer;
  /** The filter whose mask the view reads, if any. */
  filterId: number | null;
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
      view = await ViewRenderer.create(source, target, settings);
    } catch (error) {
      target.destroy();
      throw error;
    }
    if (!alive()) {
      view.destroy();
      throw tableGone(tableId);
    }
    const viewId = this.#nextId++;
    this.#views.set(viewId, { tableId, view, filterId: null });
    return { viewId, ...view.state };
  }

  /** The live view `viewId`; why it is gone otherwise. */
  view(viewId: number): ViewRenderer {
    const live = this.#views.get(viewId);
    if (live) return live.view;
    const gone = this.#gone.get(viewId);
    if (gone) throw gone();
    throw new ArgumentError(`render: there is no view ${viewId}`, { option: 'view' });
  }

  /** The table view `viewId` draws. */
  tableOf(viewId: number): number {
    this.view(viewId);
    return (this.#views.get(viewId) as LiveView).tableId;
  }

  /** Draws only the rows of filter `filterId` (its `mask`), or every row with `null`s. */
  async setFilter(viewId: number, filterId: number | null, mask: GPUBuffer | null): Promise<ViewInfo> {
    const state = await this.view(viewId).setMask(mask);
    const live = this.#views.get(viewId);
    if (live) live.filterId = filterId;
    return { viewId, ...state };
  }

  /** Views drawing with filter `filterId` of table `tableId` draw every row again (the filter is going). */
  async dropFilter(tableId: number, filterId: number): Promise<void> {
    const users = [...this.#views].filter(([, v]) => v.tableId === tableId && v.filterId === filterId);
    await Promise.all(users.map(([viewId]) => this.setFilter(viewId, null, null)));
  }

  /** Every live view, oldest first. */
  all(): ViewRenderer[] {
    return [...this.#views.values()].map((v) => v.view);
  }

  async update(viewId: number, settings: RenderSettings): Promise<ViewInfo> {
    return { viewId, ...(await this.view(viewId).update(settings)) };
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
