import type * as Comlink from 'comlink';
import { ArgumentError } from '../core/errors.js';
import type { LoaderWorkerApi, RenderViewInfo, WorkerViewSettings } from '../protocol.js';
import type { Range, RenderSettings, RenderState } from '../types.js';
import { type GpuFilter, workerQueryOptions } from './gpu-filter.js';
import type { GpuTable } from './gpu-table.js';
import type { WorkerGuard } from './worker-guard.js';

/** What `render` and `view.update` take: the view's settings and a filter of its table (`null`: none). */
export interface RenderUpdate extends RenderSettings {
  /** Draws the rows this filter of the table keeps, the others dimmed or hidden (`filterMode`). */
  filter?: GpuFilter | null;
}

/**
 * @internal The worker's form of `settings` on `table`: the filter by id. A filter that is not a
 * `GpuFilter` of this table is `INVALID_ARGUMENT`.
 */
export function workerViewSettings(table: GpuTable, settings: RenderUpdate): WorkerViewSettings {
  if (typeof settings !== 'object' || settings === null) return settings;
  const { filter, ...rest } = settings;
  if (filter === undefined) return rest;
  if (filter === null) return { ...rest, filterId: null };
  return { ...rest, filterId: workerQueryOptions(table, { filter }).filterId as number };
}

/**
 * A table drawn on a canvas by the worker (`loader.render`). Every call sends a few numbers and names
 * across and resolves once the worker has drawn the frame: the page's thread never waits on the GPU.
 */
export class RenderView {
  readonly #id: number;
  readonly #table: GpuTable;
  readonly #remote: Comlink.Remote<LoaderWorkerApi>;
  readonly #guard: WorkerGuard;
  #state: RenderState;
  #destroyed = false;

  /** @internal Made by `Loader.render`. */
  constructor(
    info: RenderViewInfo,
    table: GpuTable,
    remote: Comlink.Remote<LoaderWorkerApi>,
    guard: WorkerGuard,
  ) {
    const { viewId, ...state } = info;
    this.#id = viewId;
    this.#table = table;
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
   * `opacity`, `background`, `filter` (a `GpuFilter` of the table, `null` for none), `filterMode`, or a
   * view's `shader`. A column changed without its domain shows its extent. A change that fails leaves
   * the view as it was.
   */
  async update(settings: RenderUpdate): Promise<RenderState> {
    return this.#call(() => this.#remote.updateView(this.#id, workerViewSettings(this.#table, settings)));
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
