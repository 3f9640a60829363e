/** A `[low, high]` range of values; `low > high` flips the axis. */
export type Range = [number, number];

/** The values a view shows: x and y become the canvas's edges, colour the ends of the ramp. */
export interface RenderDomain {
  x?: Range;
  y?: Range;
  /** A numeric colour column's range (viridis from `low` to `high`); ignored for categories. */
  color?: Range;
}

/** Topologies a custom shader may draw with. */
export type ShaderTopology = 'triangle-list' | 'triangle-strip' | 'line-list' | 'line-strip' | 'point-list';

/**
 * A caller's WGSL, drawn with `vertices` vertices for every row (the row is `@builtin(instance_index)`).
 * The code is appended to the accessors of `columns` (what `table.wgsl(columns)` returns, group 0) and to
 * the view's group 1 (`awg_view`, `awg_row_alpha`, `awg_clip`, `awg_viridis`, `awg_category`). See the
 * README for what it must define.
 */
export interface RenderShader {
  code: string;
  /** Columns whose accessors the code calls, by name (a struct's name selects its children); default none. */
  columns?: string[];
  /** Vertices drawn for each row; default 6 (two triangles). */
  vertices?: number;
  /** Default `'triangle-list'`. */
  topology?: ShaderTopology;
  /** Entry points; default `'vs'` and `'fs'`. */
  vertex?: string;
  fragment?: string;
}

/** How rows outside a filter are drawn: dimmed under the others, or not at all. */
export type FilterMode = 'dim' | 'hide';

/** What a view draws and how; `update` takes any subset (a column changed without its domain gets its extent). */
export interface RenderSettings {
  /** The columns of the horizontal and vertical positions. */
  x?: string;
  y?: string;
  /** The column that colours points: a ramp for numbers, a palette for dictionary and bool; `null`: none. */
  color?: string | null;
  /** Side of a point's square, in CSS pixels; default 2. */
  size?: number;
  /** Opacity of every point, 0 to 1; default 1. */
  opacity?: number;
  /** Device pixels per CSS pixel: the canvas's width is its CSS width times this; default 1. */
  pixelRatio?: number;
  domain?: RenderDomain;
  /** Colour behind the points, straight alpha, components 0 to 1; default transparent `[0, 0, 0, 0]`. */
  background?: [number, number, number, number];
  /** Rows outside the filter: `'dim'` (default) or `'hide'`. */
  filterMode?: FilterMode;
  /** A custom shader instead of the built-in points (then x, y and color do not apply). */
  shader?: RenderShader;
}

/** A view as it stands after a call: the domain it shows (defaults filled in) and its canvas. */
export interface RenderState {
  domain: { x: Range; y: Range; color: Range | null };
  /** The canvas in device pixels. */
  width: number;
  height: number;
  pixelRatio: number;
  /** Frames drawn so far. */
  frames: number;
  /** Milliseconds the last frame took in the worker, from encoding until the GPU had drawn it. */
  frameMs: number;
}
