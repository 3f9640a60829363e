import type { WgslBinding } from '../../columns/wgsl/column-wgsl.js';
import { tableWgsl } from '../../columns/wgsl/table-wgsl.js';
import type { Channel } from './channel.js';
import { REL_HELPERS, relFunction } from './channel-wgsl.js';
import { VIEW_WGSL } from './view-wgsl.js';

/** The columns the built-in points read. */
export interface PointChannels {
  x: Channel;
  y: Channel;
  color: Channel | null;
}

/** `awg_fill(row)`: a row's colour (straight alpha) after the colour channel, if any. */
function fillWgsl(color: Channel | null, id: string | null): string {
  if (!color || !id) return 'fn awg_fill(row: u32) -> vec4<f32> { return awg_view.fill; }';
  if (color.categorical) {
    const code =
      color.column.plan.encoding === 'bool' ? `select(0u, 1u, ${id}_value(row))` : `${id}_code(row)`;
    return `fn awg_fill(row: u32) -> vec4<f32> {
  if (!${id}_valid(row)) { return awg_view.null_fill; }
  return vec4<f32>(awg_category(${code}), 1.0);
}`;
  }
  return `fn awg_fill(row: u32) -> vec4<f32> {
  let c = awg_rel_c(row, awg_view.color.origin);
  if (!c.ok) { return awg_view.null_fill; }
  return vec4<f32>(awg_viridis(c.value * awg_view.color.k + awg_view.color.b), 1.0);
}`;
}

/** The vertex and fragment stages, after the accessors, `VIEW_WGSL` and the channels' functions. */
const STAGES = /* wgsl */ `
// Vertices a point takes: 6 (a square of two triangles) or 1 (one pixel, for points that small).
override point_vertices: u32;

struct AwgPoint {
  @builtin(position) position: vec4<f32>,
  @location(0) @interpolate(flat) color: vec4<f32>,
}

const AWG_CORNERS = array<vec2<f32>, 6>(
  vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(-1.0, 1.0),
  vec2<f32>(-1.0, 1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
);

// A draw covers rows of one chunk: its one instance's index is the chunk's first table row, and vertex
// indices count point_vertices a row from the chunk's start (a draw's first vertex skips the rows drawn
// before it), so chunks of any sizes need no row arithmetic. A row not drawn puts all its vertices in
// one place: no area, nothing drawn.
@vertex
fn awg_vertex(@builtin(vertex_index) index: u32, @builtin(instance_index) chunk_start: u32) -> AwgPoint {
  let local = index / point_vertices;
  let row = chunk_start + local;
  let vertex = index % point_vertices;
  var out: AwgPoint;
  out.position = vec4<f32>(-2.0, -2.0, 0.0, 1.0);
  out.color = vec4<f32>(0.0);
  let alpha = awg_row_alpha(row);
  let x = awg_rel_x(local, awg_view.x.origin);
  let y = awg_rel_y(local, awg_view.y.origin);
  if (alpha <= 0.0 || !x.ok || !y.ok) { return out; }
  // Points far outside stay far outside: clamped, an overflow never wraps them back in.
  let limit = vec2<f32>(1.0) + 2.0 * awg_view.half;
  let center = clamp(vec2<f32>(x.value * awg_view.x.k + awg_view.x.b, y.value * awg_view.y.k + awg_view.y.b),
    -limit, limit);
  let corner = select(vec2<f32>(0.0), AWG_CORNERS[vertex], point_vertices == 6u);
  out.position = vec4<f32>(center + corner * awg_view.half, 0.0, 1.0);
  let fill = awg_fill(local);
  let a = fill.a * alpha;
  out.color = vec4<f32>(fill.rgb * a, a);
  return out;
}

@fragment
fn awg_fragment(point: AwgPoint) -> @location(0) vec4<f32> { return point.color; }
`;

/**
 * The WGSL of the built-in points over `channels`, for one chunk: the channels' accessors as
 * `table.wgsl` makes them for a chunk of `rows` rows from row 0 (the same code serves every chunk, since
 * one chunk's accessors bake in no row count), their value reads, and the stages. `bindings` are group 0's.
 */
export function pointsWgsl(channels: PointChannels, rows: number): { code: string; bindings: WgslBinding[] } {
  const list = [channels.x, channels.y, ...(channels.color ? [channels.color] : [])];
  const one = [{ rowOffset: 0, rows }];
  const wgsl = tableWgsl(
    list.map(({ column }) => ({ plan: column.plan, values: one, validity: column.validity ? one : null })),
    { group: 0, prefix: 'col_', helpers: 'all' },
  );
  const ids = wgsl.columns.map((c) => c.identifier);
  const reads = (['x', 'y', 'c'] as const).flatMap((name, i) => {
    const channel = list[i];
    return channel ? [relFunction(name, channel, ids[i] as string)] : [];
  });
  const fill = fillWgsl(channels.color, ids[2] ?? null);
  return {
    code: [wgsl.code, REL_HELPERS, VIEW_WGSL, ...reads, fill, STAGES].join('\n'),
    bindings: wgsl.bindings,
  };
}
