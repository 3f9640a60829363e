import { DEFAULT_POINT_COLOR, TABLEAU10, VIRIDIS_COEFFICIENTS } from '../src/core/gpu/render/palettes.js';
import type { ColumnBuffer, ColumnInfo, DeviceColumnInfo, Range } from '../src/index.js';

/** How the shader reads a column's 32-bit words (`KIND.none`: no colour column). */
const KIND = { f32: 0, i32: 1, u32: 2, code: 3, bool: 4, none: 5 } as const;

/** The columns drawn: x and y as positions, `color` by category or on the viridis ramp. */
export interface PointColumns {
  x: DeviceColumnInfo;
  y: DeviceColumnInfo;
  color: DeviceColumnInfo | null;
}

/** The values at the canvas's edges, and a numeric colour column's ramp ends. */
export interface PointDomain {
  x: Range;
  y: Range;
  color: Range | null;
}

/**
 * The shader's reading of `column` as a position (`color` false) or a colour; `null` for encodings this
 * small pipeline does not read (64-bit and wider ones: the worker's renderer draws those).
 */
export function kindOf(column: ColumnInfo, color: boolean): number | null {
  switch (column.encoding) {
    case 'f32':
    case 'f32-relative':
      return KIND.f32;
    case 'i32':
      return KIND.i32;
    case 'u32':
      return KIND.u32;
    case 'dictionary':
      return color ? KIND.code : null;
    case 'bool':
      return color ? KIND.bool : null;
    default:
      return null;
  }
}

const rgb = (hex: string) =>
  [1, 3, 5].map((i) => (Number.parseInt(hex.slice(i, i + 2), 16) / 255).toFixed(4)).join(', ');
const f = (v: number) => v.toFixed(16);

/**
 * One point a row (`vertex_index` is the row; the draw of a row range starts there). Each column is
 * bound as the chunk that holds the range, read at `row - first row of the chunk`; a null x, y or colour
 * (its validity bit clear) puts the point outside the clip volume, so that it is not drawn.
 */
const SHADER = /* wgsl */ `
struct Params {
  domain: vec4f,     // x0, x1, y0, y1
  color: vec4f,      // ramp low, ramp high, alpha
  kinds: vec4u,      // x, y, colour kinds; w: bit c set when column c (x, y, colour) has validity
  values: vec4u,     // first row of the bound value chunk of x, y, colour
  validity: vec4u,   // first row of the bound validity chunk of x, y, colour
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<u32>;
@group(0) @binding(2) var<storage, read> ys: array<u32>;
@group(0) @binding(3) var<storage, read> cs: array<u32>;
@group(0) @binding(4) var<storage, read> xv: array<u32>;
@group(0) @binding(5) var<storage, read> yv: array<u32>;
@group(0) @binding(6) var<storage, read> cv: array<u32>;

const palette = array(${TABLEAU10.map((c) => `vec3f(${rgb(c)})`).join(', ')});
const viridisC = array(${VIRIDIS_COEFFICIENTS.map((c) => `vec3f(${c.map(f).join(', ')})`).join(', ')});

struct Out { @builtin(position) position: vec4f, @location(0) color: vec4f }

fn number(word: u32, kind: u32) -> f32 {
  if (kind == ${KIND.f32}u) { return bitcast<f32>(word); }
  if (kind == ${KIND.i32}u) { return f32(bitcast<i32>(word)); }
  return f32(word);
}
fn bit(word: u32, row: u32) -> bool { return ((word >> (row & 31u)) & 1u) == 1u; }
fn viridis(t: f32) -> vec3f {
  var c = viridisC[6];
  for (var i = 5; i >= 0; i--) { c = viridisC[i] + t * c; }
  return clamp(c, vec3f(0.0), vec3f(1.0));
}

@vertex fn vs(@builtin(vertex_index) row: u32) -> Out {
  var out: Out;
  out.position = vec4f(2.0, 2.0, 2.0, 1.0);
  let x = row - p.validity.x;
  let y = row - p.validity.y;
  let c = row - p.validity.z;
  if ((p.kinds.w & 1u) != 0u && !bit(xv[x >> 5u], x)) { return out; }
  if ((p.kinds.w & 2u) != 0u && !bit(yv[y >> 5u], y)) { return out; }
  if ((p.kinds.w & 4u) != 0u && !bit(cv[c >> 5u], c)) { return out; }
  let at = vec2f(number(xs[row - p.values.x], p.kinds.x), number(ys[row - p.values.y], p.kinds.y));
  out.position = vec4f((at - p.domain.xz) / (p.domain.yw - p.domain.xz) * 2.0 - 1.0, 0.0, 1.0);
  let k = p.kinds.z;
  let word = cs[row - p.values.z];
  var color = vec3f(${rgb(DEFAULT_POINT_COLOR)});
  if (k == ${KIND.code}u) { color = palette[word % 10u]; }
  else if (k == ${KIND.bool}u) { color = palette[select(0u, 1u, bit(cs[(row - p.values.z) >> 5u], row - p.values.z))]; }
  else if (k != ${KIND.none}u) { color = viridis((number(word, k) - p.color.x) / (p.color.y - p.color.x)); }
  out.color = vec4f(color * p.color.z, p.color.z);
  return out;
}
@fragment fn fs(@location(0) color: vec4f) -> @location(0) vec4f { return color; }`;

/** A row range `[start, end)` that lies in one value chunk and one validity chunk of every column drawn. */
interface Segment {
  start: number;
  end: number;
  /** Per column (x, y, colour): the value chunk and validity chunk holding the range. */
  values: (ColumnBuffer | null)[];
  validity: (ColumnBuffer | null)[];
}

/**
 * A point-list pipeline on the page's device that draws a table's columns from their own buffers:
 * a draw a row range, each binding the chunks that hold it (so a column of many chunks never needs more
 * than one binding at a time). Canvas pixels outside every point keep the clear colour (transparent).
 */
export class PagePoints {
  readonly #device: GPUDevice;
  readonly #format = navigator.gpu.getPreferredCanvasFormat();
  readonly #pipeline: GPURenderPipeline;
  /** Bound where a column is absent (no colour, no validity): the shader never reads it. */
  readonly #empty: GPUBuffer;

  constructor(device: GPUDevice) {
    this.#device = device;
    const module = device.createShaderModule({ code: SHADER });
    const blend: GPUBlendComponent = { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' };
    this.#pipeline = device.createRenderPipeline({
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: {
        module,
        entryPoint: 'fs',
        targets: [{ format: this.#format, blend: { color: blend, alpha: blend } }],
      },
      primitive: { topology: 'point-list' },
    });
    this.#empty = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  }

  /** Configures `canvas` for this device (premultiplied alpha: the plot's background shows through). */
  context(canvas: HTMLCanvasElement): GPUCanvasContext {
    const context = canvas.getContext('webgpu') as GPUCanvasContext;
    context.configure({ device: this.#device, format: this.#format, alphaMode: 'premultiplied' });
    return context;
  }

  /** Draws rows `[0, rows)` of `columns` over `domain` on `context`; resolves once the GPU is done. */
  async draw(
    context: GPUCanvasContext,
    columns: PointColumns,
    domain: PointDomain,
    rows: number,
    alpha: number,
  ) {
    const device = this.#device;
    const drawn = [columns.x, columns.y, columns.color];
    const kinds = drawn.map((c, i) => (c ? (kindOf(c, i === 2) ?? KIND.none) : KIND.none));
    const hasValidity = drawn.reduce((mask, c, i) => mask | (c?.buffers.validity ? 1 << i : 0), 0);
    const shift = drawn.map((c) => Number(c?.offset ?? 0));
    const uniforms: GPUBuffer[] = [];
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginRenderPass({
      colorAttachments: [
        {
          view: context.getCurrentTexture().createView(),
          clearValue: [0, 0, 0, 0],
          loadOp: 'clear',
          storeOp: 'store',
        },
      ],
    });
    pass.setPipeline(this.#pipeline);
    for (const segment of segments(drawn, rows)) {
      const first = (chunks: (ColumnBuffer | null)[]) => [...chunks.map((c) => c?.rowOffset ?? 0), 0];
      const params = new ArrayBuffer(80);
      // An f32-relative column holds value − offset: its domain is moved by the same offset.
      new Float32Array(params, 0, 8).set([
        domain.x[0] - (shift[0] ?? 0),
        domain.x[1] - (shift[0] ?? 0),
        domain.y[0] - (shift[1] ?? 0),
        domain.y[1] - (shift[1] ?? 0),
        (domain.color?.[0] ?? 0) - (shift[2] ?? 0),
        (domain.color?.[1] ?? 1) - (shift[2] ?? 0),
        alpha,
      ]);
      new Uint32Array(params, 32, 12).set([
        ...kinds,
        hasValidity,
        ...first(segment.values),
        ...first(segment.validity),
      ]);
      const uniform = device.createBuffer({
        size: 80,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      uniforms.push(uniform);
      device.queue.writeBuffer(uniform, 0, params);
      const bind = (chunk: ColumnBuffer | null) => ({
        buffer: chunk?.buffer ?? this.#empty,
        size: chunk?.byteLength || 16,
      });
      const resources = [...segment.values, ...segment.validity].map(bind);
      const group = device.createBindGroup({
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: [uniform, ...resources].map((resource, binding) => ({
          binding,
          resource: resource instanceof GPUBuffer ? { buffer: resource } : resource,
        })),
      });
      pass.setBindGroup(0, group);
      pass.draw(segment.end - segment.start, 1, segment.start);
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    await device.queue.onSubmittedWorkDone();
    for (const uniform of uniforms) uniform.destroy();
    if (error) throw new Error(`The page's pipeline failed: ${error.message}`);
  }

  /** Frees the pipeline's own buffer (the table's buffers are the table's). */
  destroy(): void {
    this.#empty.destroy();
  }
}

/**
 * Cuts `[0, rows)` at every chunk edge of the columns drawn, so that each range lies in one chunk of
 * each; rows past the shortest column's last chunk (still landing) are left for the next draw.
 */
function segments(columns: (DeviceColumnInfo | null)[], rows: number): Segment[] {
  const lists = columns.flatMap((c) => (c ? [c.buffers.values, c.buffers.validity ?? []] : []));
  const covered = Math.min(
    rows,
    ...columns.flatMap((c) =>
      c ? [end(c.buffers.values), c.buffers.validity ? end(c.buffers.validity) : rows] : [],
    ),
  );
  const edges = new Set([0, covered]);
  for (const list of lists)
    for (const chunk of list) if (chunk.rowOffset < covered) edges.add(chunk.rowOffset);
  const sorted = [...edges].sort((a, b) => a - b);
  const holding = (chunks: readonly ColumnBuffer[] | undefined, row: number) =>
    chunks?.find((c) => c.rowOffset <= row && row < c.rowOffset + c.rows) ?? null;
  return sorted.slice(0, -1).map((start, i) => ({
    start,
    end: sorted[i + 1] as number,
    values: columns.map((c) => holding(c?.buffers.values, start)),
    validity: columns.map((c) => holding(c?.buffers.validity ?? undefined, start)),
  }));
}

function end(chunks: readonly ColumnBuffer[]): number {
  const last = chunks[chunks.length - 1];
  return last ? last.rowOffset + last.rows : 0;
}
