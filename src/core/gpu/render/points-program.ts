import type { WgslColumnInput } from '../../columns/wgsl/column-wgsl.js';
import { tableWgsl } from '../../columns/wgsl/table-wgsl.js';
import { GpuError } from '../../errors.js';
import type { BufferChunk, UploadedColumn } from '../upload/table-uploader.js';
import type { Channel } from './channel.js';
import { REL_HELPERS, relFunction } from './channel-wgsl.js';
import { renderPipeline, storageLayout } from './compile.js';
import { VIEW_WGSL } from './view-wgsl.js';

/** The draws of a view, encoded into a render pass whose group 1 is set. */
export interface RenderProgram {
  encode(pass: GPURenderPassEncoder): void;
}

/** The columns the built-in points read. */
export interface PointChannels {
  x: Channel;
  y: Channel;
  color: Channel | null;
}

/** The vertex and fragment stages of the built-in points, after the accessors and `VIEW_WGSL`. */
function pointsWgsl(color: Channel | null, colorId: string | null): string {
  let fill = '  return awg_view.fill;';
  if (color && colorId && color.categorical) {
    const code =
      color.column.plan.encoding === 'bool'
        ? `select(0u, 1u, ${colorId}_value(row))`
        : `${colorId}_code(row)`;
    fill = `  if (!${colorId}_valid(row)) { return awg_view.null_fill; }
  return vec4<f32>(awg_category(${code}), 1.0);`;
  } else if (color) {
    fill = `  let c = awg_rel_c(row, awg_view.color.origin);
  if (!c.ok) { return awg_view.null_fill; }
  return vec4<f32>(awg_viridis(c.value * awg_view.color.k + awg_view.color.b), 1.0);`;
  }
  return /* wgsl */ `
// Rows of every chunk but the last: instance_index is the table's row, its remainder the chunk's row.
override chunk_rows: u32;

// A row's colour, straight alpha.
fn awg_fill(row: u32) -> vec4<f32> {
${fill}
}

struct AwgPoint {
  @builtin(position) position: vec4<f32>,
  @location(0) @interpolate(flat) color: vec4<f32>,
}

const AWG_CORNERS = array<vec2<f32>, 6>(
  vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(-1.0, 1.0),
  vec2<f32>(-1.0, 1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
);

// One square a row: six vertices, all in one place (no area, nothing drawn) when the row is not drawn.
@vertex
fn awg_vertex(@builtin(vertex_index) vertex: u32, @builtin(instance_index) row: u32) -> AwgPoint {
  var out: AwgPoint;
  out.position = vec4<f32>(-2.0, -2.0, 0.0, 1.0);
  out.color = vec4<f32>(0.0);
  let alpha = awg_row_alpha(row);
  let local = row % chunk_rows;
  let x = awg_rel_x(local, awg_view.x.origin);
  let y = awg_rel_y(local, awg_view.y.origin);
  if (alpha <= 0.0 || !x.ok || !y.ok) { return out; }
  // Points far outside stay far outside: clamped, an overflow never wraps them back in.
  let limit = vec2<f32>(1.0) + 2.0 * awg_view.half;
  let center = clamp(vec2<f32>(x.value * awg_view.x.k + awg_view.x.b, y.value * awg_view.y.k + awg_view.y.b),
    -limit, limit);
  out.position = vec4<f32>(center + AWG_CORNERS[vertex % 6u] * awg_view.half, 0.0, 1.0);
  let fill = awg_fill(local);
  let a = fill.a * alpha;
  out.color = vec4<f32>(fill.rgb * a, a);
  return out;
}

@fragment
fn awg_fragment(point: AwgPoint) -> @location(0) vec4<f32> { return point.color; }
`;
}

/** Every chunk list of `columns` must split rows where the first does (the uploader's chunks always do). */
function sharedChunks(columns: readonly UploadedColumn[]): BufferChunk[] {
  const first = columns[0]?.values ?? [];
  for (const column of columns) {
    const same =
      column.values.length === first.length &&
      column.values.every((c, k) => c.rowOffset === first[k]?.rowOffset && c.rows === first[k]?.rows);
    if (!same) throw new Error(`column ${JSON.stringify(column.plan.name)} is chunked unlike the others`);
  }
  return first;
}

/**
 * The built-in points over `channels`: instanced squares, six vertices a row, one draw per column
 * chunk with the chunk's buffers bound in group 0 (vertex pulling from the column buffers themselves:
 * nothing is copied). The WGSL is generated once, for a chunk, and serves every chunk.
 */
export async function pointsProgram(
  device: GPUDevice,
  format: GPUTextureFormat,
  channels: PointChannels,
  group1: GPUBindGroupLayout,
): Promise<RenderProgram> {
  const list = [channels.x, channels.y, ...(channels.color ? [channels.color] : [])];
  const chunks = sharedChunks(list.map((c) => c.column));
  const first = chunks[0];
  if (!first) return { encode: () => {} };
  const one = [{ rowOffset: 0, rows: first.rows }];
  const inputs: WgslColumnInput[] = list.map(({ column }) => ({
    plan: column.plan,
    values: one,
    validity: column.validity ? one : null,
  }));
  const wgsl = tableWgsl(inputs, { group: 0, prefix: 'col_', helpers: 'all' });
  const ids = wgsl.columns.map((c) => c.identifier);
  const rel = (['x', 'y', 'c'] as const).flatMap((name, i) =>
    list[i] ? [relFunction(name, list[i] as Channel, ids[i] as string)] : [],
  );
  const code = [wgsl.code, REL_HELPERS, VIEW_WGSL, ...rel, pointsWgsl(channels.color, ids[2] ?? null)].join(
    '\n',
  );
  const layout0 = storageLayout(
    device,
    'points: column chunk',
    wgsl.bindings.map((b) => b.binding),
    GPUShaderStage.VERTEX,
  );
  const pipeline = await renderPipeline(
    device,
    {
      label: 'points',
      code,
      layouts: [layout0, group1],
      vertex: 'awg_vertex',
      fragment: 'awg_fragment',
      format,
      topology: 'triangle-list',
      constants: { chunk_rows: chunks.length > 1 ? first.rows : 2 ** 32 - 1 },
    },
    (message) => new GpuError('GPU_VALIDATION', `render: the points pipeline failed to build: ${message}`),
  );
  // The bindings name columns in input order; a column drawn twice (x = y) is bound twice.
  const groups = chunks.map((_, k) =>
    device.createBindGroup({
      label: `points: chunk ${k}`,
      layout: layout0,
      entries: wgsl.bindings.map((b) => {
        const column = (list.find((c) => c.column.plan.name === b.column) as Channel).column;
        const buffers = b.kind === 'values' ? column.values : (column.validity ?? []);
        return { binding: b.binding, resource: { buffer: (buffers[k] as BufferChunk).buffer } };
      }),
    }),
  );
  return {
    encode(pass) {
      pass.setPipeline(pipeline);
      for (const [k, chunk] of chunks.entries()) {
        pass.setBindGroup(0, groups[k] as GPUBindGroup);
        pass.draw(6, chunk.rows, 0, chunk.rowOffset);
      }
    },
  };
}
