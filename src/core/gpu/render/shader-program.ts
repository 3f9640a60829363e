import { tableWgsl } from '../../columns/wgsl/table-wgsl.js';
import { ArgumentError, LimitError } from '../../errors.js';
import type { BufferChunk, UploadedColumn } from '../upload/table-uploader.js';
import { renderPipeline, storageLayout } from './compile.js';
import type { RenderProgram } from './points-program.js';
import type { RenderShader } from './render-settings.js';
import { VIEW_WGSL } from './view-wgsl.js';

/** Storage buffers a stage of `device` may bind: the per-stage limit, or the vertex stage's own when lower. */
function storageLimit(device: GPUDevice): number {
  const limits = device.limits as GPUSupportedLimits & { maxStorageBuffersInVertexStage?: number };
  return Math.min(
    limits.maxStorageBuffersPerShaderStage,
    limits.maxStorageBuffersInVertexStage ?? Number.POSITIVE_INFINITY,
  );
}

/**
 * A caller's vertex and fragment stages over `columns`: the code sees the columns' accessors exactly
 * as `table.wgsl(names)` declares them (group 0, from binding 0), then the view's group 1, and draws
 * `shader.vertices` vertices for each of the `rows` rows in one draw. WGSL that does not compile, or
 * entry points that do not fit, are `INVALID_ARGUMENT` with the compiler's messages.
 */
export async function shaderProgram(
  device: GPUDevice,
  format: GPUTextureFormat,
  shader: RenderShader,
  columns: readonly UploadedColumn[],
  rows: number,
  group1: GPUBindGroupLayout,
): Promise<RenderProgram> {
  const wgsl = tableWgsl(columns.map(({ plan, values, validity }) => ({ plan, values, validity })));
  const limit = storageLimit(device) - 1; // group 1's mask takes one
  if (wgsl.bindings.length > limit) {
    throw new LimitError(
      `render: shader.columns bind ${wgsl.bindings.length} storage buffers (a chunk each, validity too); ` +
        `a shader stage binds at most ${limit} besides the view's mask`,
      { option: 'shader.columns', expected: limit, actual: wgsl.bindings.length },
    );
  }
  const visibility = GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT;
  const layout0 = storageLayout(
    device,
    'shader: columns',
    wgsl.bindings.map((b) => b.binding),
    visibility,
  );
  const prelude = `${wgsl.code}\n${VIEW_WGSL}\n`;
  const pipeline = await renderPipeline(
    device,
    {
      label: 'render shader',
      code: prelude + shader.code,
      callerLine: prelude.split('\n').length,
      layouts: [layout0, group1],
      vertex: shader.vertex ?? 'vs',
      fragment: shader.fragment ?? 'fs',
      format,
      topology: shader.topology ?? 'triangle-list',
    },
    (message) => new ArgumentError(`render: shader.code was refused: ${message}`, { option: 'shader.code' }),
  );
  const group0 = device.createBindGroup({
    label: 'shader: columns',
    layout: layout0,
    entries: wgsl.bindings.map((b) => {
      const column = columns.find((c) => c.plan.name === b.column) as UploadedColumn;
      const chunks = b.kind === 'values' ? column.values : (column.validity ?? []);
      return { binding: b.binding, resource: { buffer: (chunks[b.chunk] as BufferChunk).buffer } };
    }),
  });
  const vertices = shader.vertices ?? 6;
  return {
    prepare: async () => {},
    encode(pass) {
      if (rows === 0) return;
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group0);
      pass.draw(vertices, rows);
    },
  };
}
