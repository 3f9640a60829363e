import { ArgumentError, type ArrowGpuError, LimitError } from '../../errors.js';
import { rejectOnGpuError, withErrorScope } from '../error-scope.js';
import { serialiser } from '../query/submit.js';
import { type Channel, channelMap, channelOf } from './channel.js';
import { checkSettings, invalidSetting } from './check-settings.js';
import { viewLayout } from './compile.js';
import { DEFAULT_POINT_COLOR, hexColor } from './palettes.js';
import { type Frame, type PointChannels, PointsProgram, type RenderProgram } from './points-program.js';
import { RedrawPacer } from './redraw-pacer.js';
import type { RenderSettings, RenderState } from './render-settings.js';
import type { RenderTarget } from './render-target.js';
import { shaderProgram } from './shader-program.js';
import { type Resolved, resolve } from './view-settings.js';
import type { ViewSource } from './view-source.js';
import { PASS, viewBytes } from './view-uniforms.js';
import { VIEW_STRIDE } from './view-wgsl.js';

export type { ViewSource } from './view-source.js';

/**
 * One canvas drawing one table: its program (the built-in points or a caller's shader), a uniform
 * buffer with a block per pass, and group 1 (that buffer and the row mask), all made once and reused
 * by every frame; a frame is drawn whenever a setting, the size or the mask changes, and, while the
 * table loads, when rows land (`grew`: paced, one redraw at a time). A frame draws the rows the table
 * has then: a program is remade for new chunks (a points program keeps its pipelines). Changes run one
 * at a time; a change that fails leaves the view as it was.
 */
export class ViewRenderer {
  readonly #source: ViewSource;
  readonly #target: RenderTarget;
  readonly #layout1: GPUBindGroupLayout;
  readonly #uniform: GPUBuffer;
  readonly #noMask: GPUBuffer;
  readonly #serial = serialiser();
  #settings: Resolved;
  #channels: PointChannels | null;
  #program: RenderProgram;
  /** The table's rows when the program (and the channels' columns) were made: what a frame draws. */
  #rows: number;
  readonly #pacer: RedrawPacer;
  #mask: GPUBuffer | null = null;
  #group1: GPUBindGroup;
  #frames = 0;
  #frameMs = 0;
  /** Why the view is gone, once it is. */
  #gone: (() => ArrowGpuError) | null = null;

  private constructor(
    source: ViewSource,
    target: RenderTarget,
    buffers: { uniform: GPUBuffer; noMask: GPUBuffer; layout1: GPUBindGroupLayout },
    settings: Resolved,
    channels: PointChannels | null,
    program: RenderProgram,
    rows: number,
  ) {
    this.#source = source;
    this.#rows = rows;
    this.#pacer = new RedrawPacer(
      () => this.#grow(),
      () => this.#frameMs,
    );
    this.#target = target;
    this.#uniform = buffers.uniform;
    this.#noMask = buffers.noMask;
    this.#layout1 = buffers.layout1;
    this.#settings = settings;
    this.#channels = channels;
    this.#program = program;
    this.#group1 = this.#bindView();
  }

  /**
   * A view of `source` on `target` with `settings` (`x` and `y`, or `shader`) and a row mask (see
   * `setMask`), drawn once before it resolves. Misuse is `INVALID_ARGUMENT` or `NO_SUCH_COLUMN`;
   * whatever was made is freed then.
   */
  static async create(
    source: ViewSource,
    target: RenderTarget,
    settings: RenderSettings,
    mask: GPUBuffer | null = null,
  ): Promise<ViewRenderer> {
    checkSettings('render', settings);
    checkKind('render', settings.shader !== undefined, settings);
    if (!settings.shader && (settings.x === undefined || settings.y === undefined)) {
      const missing = settings.x === undefined ? 'x' : 'y';
      throw invalidSetting('render', missing, 'a column name (x and y, or a shader)', undefined);
    }
    const { device, tracker } = source;
    const resolved = await resolve(source, null, null, settings);
    const rows = source.numRows;
    const channels = resolved.channels && currentChannels(source, resolved.channels);
    const layout1 = viewLayout(device);
    const program = await makeProgram(source, target, resolved.settings, channels, layout1);
    const usage = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const uniform = await tracker.create({ label: 'render view uniforms', size: 2 * VIEW_STRIDE, usage });
    let noMask: GPUBuffer;
    try {
      noMask = await tracker.create({
        label: 'render view: no mask',
        size: 4,
        usage: GPUBufferUsage.STORAGE,
      });
    } catch (error) {
      tracker.destroy(uniform);
      throw error;
    }
    const view = new ViewRenderer(
      source,
      target,
      { uniform, noMask, layout1 },
      resolved.settings,
      channels,
      program,
      rows,
    );
    try {
      view.#mask = mask;
      view.#group1 = view.#bindView();
      await view.#draw();
    } catch (error) {
      view.destroy();
      throw error;
    }
    return view;
  }

  /** Where the view stands: its domain (defaults filled in), its canvas, the frames drawn. */
  get state(): RenderState {
    const { domain, pixelRatio } = this.#settings;
    return {
      domain: { x: [...domain.x], y: [...domain.y], color: domain.color ? [...domain.color] : null },
      width: this.#target.width,
      height: this.#target.height,
      pixelRatio,
      frames: this.#frames,
      frameMs: this.#frameMs,
    };
  }

  /**
   * Applies `settings` (any subset) and, unless `mask` is `undefined`, the row mask (see `setMask`),
   * then draws; columns changed without a domain get their extent.
   */
  update(settings: RenderSettings, mask?: GPUBuffer | null): Promise<RenderState> {
    return this.#serial(async () => {
      this.#checkAlive();
      checkSettings('update', settings);
      const current = this.#settings;
      checkKind('update', current.shader !== null, settings);
      const next = await resolve(this.#source, current, this.#channels, settings);
      // Rows landed since the program was made: every channel reads the columns as they are now.
      const rows = this.#source.numRows;
      const grown = rows !== this.#rows;
      const channels = grown && next.channels ? currentChannels(this.#source, next.channels) : next.channels;
      const rebuild =
        grown ||
        settings.shader !== undefined ||
        channels?.x !== this.#channels?.x ||
        channels?.y !== this.#channels?.y ||
        channels?.color !== this.#channels?.color;
      const program = rebuild
        ? await makeProgram(this.#source, this.#target, next.settings, channels, this.#layout1, this.#program)
        : this.#program;
      this.#checkAlive();
      this.#settings = next.settings;
      this.#channels = channels;
      this.#program = program;
      this.#rows = rows;
      if (mask !== undefined && mask !== this.#mask) {
        this.#mask = mask;
        this.#group1 = this.#bindView();
      }
      await this.#draw();
      return this.state;
    });
  }

  /** Sizes the canvas to `width` × `height` CSS pixels at `pixelRatio` device pixels each, and draws. */
  resize(width: number, height: number, pixelRatio = this.#settings.pixelRatio): Promise<RenderState> {
    return this.#serial(async () => {
      this.#checkAlive();
      const max = this.#source.device.limits.maxTextureDimension2D;
      for (const [option, value] of [
        ['width', width],
        ['height', height],
      ] as const) {
        if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
          throw invalidSetting('resize', option, 'a number of CSS pixels above 0', value);
        }
      }
      if (!(typeof pixelRatio === 'number' && pixelRatio > 0 && pixelRatio <= 64)) {
        throw invalidSetting('resize', 'pixelRatio', 'a number above 0, at most 64', pixelRatio);
      }
      const w = Math.max(1, Math.round(width * pixelRatio));
      const h = Math.max(1, Math.round(height * pixelRatio));
      if (w > max || h > max) {
        throw new LimitError(`resize: ${w} × ${h} device pixels is over the device's ${max} a side`, {
          option: w > max ? 'width' : 'height',
          expected: max,
          actual: Math.max(w, h),
        });
      }
      this.#target.resize(w, h);
      this.#settings = { ...this.#settings, pixelRatio };
      await this.#draw();
      return this.state;
    });
  }

  /**
   * Draws only the rows `mask` keeps (one bit a row over the whole table, as validity words), the others
   * dimmed or hidden after `filterMode`; `null` draws every row. The mask stays its owner's.
   */
  setMask(mask: GPUBuffer | null): Promise<RenderState> {
    return this.update({}, mask);
  }

  /**
   * The table has more rows (a load landed a batch): a frame of them soon, in the view's settings,
   * paced by `RedrawPacer` so that drawing never crowds out the load.
   */
  grew(): void {
    if (!this.#gone) this.#pacer.request();
  }

  /** Draws the rows landed since the last frame, in the same settings. */
  #grow(): Promise<void> {
    return this.#serial(async () => {
      const rows = this.#source.numRows;
      if (this.#gone || rows === this.#rows) return;
      const channels = this.#channels && currentChannels(this.#source, this.#channels);
      const program = await makeProgram(
        this.#source,
        this.#target,
        this.#settings,
        channels,
        this.#layout1,
        this.#program,
      );
      this.#checkAlive();
      this.#channels = channels;
      this.#program = program;
      this.#rows = rows;
      await this.#draw();
    });
  }

  /** Stops reading `mask` if it reads it (its owner is destroying it); the next frame draws every row. */
  clearMask(mask: GPUBuffer): void {
    if (this.#gone || this.#mask !== mask) return;
    this.#mask = null;
    this.#group1 = this.#bindView();
  }

  /**
   * Frees the view's buffers and lets go of its canvas; later calls fail with `reason()` (by default
   * `INVALID_ARGUMENT`: the view was destroyed). A second call is a no-op.
   */
  destroy(reason?: () => ArrowGpuError): void {
    if (this.#gone) return;
    this.#gone = reason ?? (() => new ArgumentError('render: the view was destroyed', { option: 'view' }));
    this.#pacer.stop();
    this.#source.tracker.destroy(this.#uniform);
    this.#source.tracker.destroy(this.#noMask);
    this.#target.destroy();
  }

  #checkAlive(): void {
    if (this.#gone) throw this.#gone();
  }

  #bindView(): GPUBindGroup {
    return this.#source.device.createBindGroup({
      label: 'render view',
      layout: this.#layout1,
      entries: [
        { binding: 0, resource: { buffer: this.#uniform, size: VIEW_STRIDE } },
        { binding: 1, resource: { buffer: this.#mask ?? this.#noMask } },
      ],
    });
  }

  /** The passes of a frame: every row; or the rows outside the mask (dimmed) and then those inside. */
  #passes(): number[] {
    if (!this.#mask) return [PASS.all];
    return this.#settings.filterMode === 'dim' ? [PASS.outside, PASS.inside] : [PASS.inside];
  }

  /** The uniform block of one pass. */
  #block(pass: number): ArrayBuffer {
    const { domain, size, pixelRatio, opacity } = this.#settings;
    const channels = this.#channels;
    const color = channels?.color && !channels.color.categorical && domain.color;
    return viewBytes({
      x: channels ? channelMap(channels.x, domain.x, [-1, 1]) : null,
      y: channels ? channelMap(channels.y, domain.y, [-1, 1]) : null,
      color: channels?.color && color ? channelMap(channels.color, color, [0, 1]) : null,
      width: this.#target.width,
      height: this.#target.height,
      pointSize: size,
      pixelRatio,
      opacity,
      fill: [...hexColor(DEFAULT_POINT_COLOR), 1],
      domain,
      rows: this.#rows,
      pass,
      hasMask: this.#mask !== null,
    });
  }

  /** Draws a frame and waits until the GPU has; a GPU error fails it (`GPU_VALIDATION`). */
  async #draw(): Promise<void> {
    const started = performance.now();
    const frame: Frame = { pointPixels: this.#settings.size * this.#settings.pixelRatio };
    await this.#program.prepare(frame);
    this.#checkAlive(); // from here to the submit nothing waits: a destroy cannot come in between
    this.#source.checkDevice();
    const { device } = this.#source;
    const passes = this.#passes();
    const [r, g, b, a] = this.#settings.background;
    const { error } = withErrorScope(device, () => {
      for (const [i, pass] of passes.entries()) {
        device.queue.writeBuffer(this.#uniform, i * VIEW_STRIDE, this.#block(pass));
      }
      const encoder = device.createCommandEncoder({ label: 'render frame' });
      const pass = encoder.beginRenderPass({
        label: 'render frame',
        colorAttachments: [
          {
            view: this.#target.texture().createView(),
            clearValue: { r: r * a, g: g * a, b: b * a, a },
            loadOp: 'clear',
            storeOp: 'store',
          },
        ],
      });
      for (const i of passes.keys()) {
        pass.setBindGroup(1, this.#group1, [i * VIEW_STRIDE]);
        this.#program.encode(pass, frame);
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
    });
    await Promise.all([
      rejectOnGpuError(error, 'render: drawing a frame'),
      device.queue.onSubmittedWorkDone(),
    ]);
    this.#source.checkDevice();
    this.#frames++;
    this.#frameMs = performance.now() - started;
  }
}

/**
 * A view draws points (x, y, color) or a custom shader, never both: settings of the other kind are
 * `INVALID_ARGUMENT` (a view keeps its kind; a shader view may take a new shader).
 */
function checkKind(call: string, shaderView: boolean, settings: RenderSettings): void {
  if (shaderView) {
    const option = (['x', 'y', 'color'] as const).find((key) => settings[key] !== undefined);
    if (option) {
      throw new ArgumentError(`${call}: ${option} does not apply to a view that draws a custom shader`, {
        option,
      });
    }
  } else if (settings.shader !== undefined) {
    throw new ArgumentError(`${call}: this view draws points; a shader needs a view of its own`, {
      option: 'shader',
    });
  }
}

/** The built-in points over `channels` (sharing `previous`'s pipelines where it can), or the caller's shader. */
function makeProgram(
  source: ViewSource,
  target: RenderTarget,
  settings: Resolved,
  channels: PointChannels | null,
  layout1: GPUBindGroupLayout,
  previous?: RenderProgram,
): Promise<RenderProgram> {
  if (settings.shader) {
    const columns = source.pick(settings.shader.columns ?? []);
    return shaderProgram(source.device, target.format, settings.shader, columns, source.numRows, layout1);
  }
  return PointsProgram.create(source.device, target.format, channels as PointChannels, layout1, previous);
}

/**
 * `channels` reading the table's columns as they are now: a loading table's columns are remade as rows
 * land (more chunks, longer ones), and a program binds the chunks of the columns it was made with.
 */
function currentChannels(source: ViewSource, channels: PointChannels): PointChannels {
  const now = (channel: Channel, option: string) =>
    channelOf(source.column(channel.column.plan.name), option);
  return {
    x: now(channels.x, 'x'),
    y: now(channels.y, 'y'),
    color: channels.color && now(channels.color, 'color'),
  };
}
