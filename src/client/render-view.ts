import type * as Comlink from 'comlink';
import { ArgumentError } from '../core/errors.js';
import type { LoaderWorkerApi, RenderViewInfo } from '../protocol.js';
import type { Range, RenderSettings, RenderState } from '../types.js';
import { GpuFilter } from './gpu-filter.js';
import type { WorkerGuard } from './worker-guard.js';

/**
 * A table drawn on a canvas by the worker (`loader.render`). Every call sends a few numbers and names
 * across and resolves once the worker has drawn the frame: the page's thread never waits on the GPU.
 */
export class RenderView {
  readonly #id: number;
  readonly #remote: Comlink.Remote<LoaderWorkerApi>;
  readonly #guard: WorkerGuard;
  #state: RenderState;
  #destroyed = false;

  /** @internal Made by `Loader.render`. */
  constructor(info: RenderViewInfo, remote: Comlink.Remote<LoaderWorkerApi>, guard: WorkerGuard) {
    const { viewId, ...state } = info;
    this.#id = viewId;
    this.#state = state;
    this.#remote = remote;
    this.#guard = guard;
  }

  /** The domain the last frame showed (defaults filled in): x, y and a numeric colour column's. */
  get domain(): { x: Range; y: Range; color: Range | null } {
    return this.#state.domain;
  }

  /** The view after its last call: domain, canvas size in device pixels, pixel ratio, frames drawn. */
  get state(): RenderState {
    return this.#state;
  }

  /**
   * Changes what is drawn and draws again: columns (`x`, `y`, `color`), `domain` (zoom and pan), `size`,
   * `opacity`, `background`, `filterMode`, or a view's `shader`. A column changed without its domain
   * shows its extent. A change that fails leaves the view as it was.
   */
  async update(settings: RenderSettings): Promise<RenderState> {
    return this.#call(() => this.#remote.updateView(this.#id, settings));
  }

  /**
   * Draws only the rows `filter` keeps (a `GpuFilter` of the drawn table, from `table.filter`), the
   * others dimmed or hidden after `filterMode`; `null` draws every row again. The view draws with the
   * filter until given another or `null`; destroying the filter makes it draw every row.
   */
  async filter(filter: GpuFilter | null): Promise<RenderState> {
    if (filter !== null && !(filter instanceof GpuFilter)) {
      throw new ArgumentError(
        `render: filter must be a GpuFilter made by table.filter(predicate), or null, not ${typeof filter}`,
        { option: 'filter' },
      );
    }
    return this.#call(() => this.#remote.filterView(this.#id, filter ? filter.filterId : null));
  }

  /** Sizes the canvas to `width` × `height` CSS pixels at `pixelRatio` (default: the view's) and draws again. */
  async resize(width: number, height: number, pixelRatio?: number): Promise<RenderState> {
    return this.#call(() => this.#remote.resizeView(this.#id, width, height, pixelRatio));
  }

  /** Frees the view's GPU objects in the worker; later calls fail with `INVALID_ARGUMENT`. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#guard.run(() => this.#remote.destroyView(this.#id));
  }

  async #call(work: () => Promise<RenderViewInfo>): Promise<RenderState> {
    if (this.#destroyed) throw new ArgumentError('render: the view was destroyed', { option: 'view' });
    const { viewId: _, ...state } = await this.#guard.run(work);
    this.#state = state;
    return state;
  }
}
