import type { ColumnBuffer, DeviceColumnInfo, Range } from '../src/index.js';
import { KIND, kindOf, SHADER } from './page-points-wgsl.js';

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

/** Bytes of the shader's `Params`. */
const PARAMS_BYTES = 80;

/**
 * The shader's `Params` for one segment: domains (an f32-relative column holds value − offset, so its
 * domain moves by the same offset), kinds, which columns have validity, and the bound chunks' first rows.
 */
function paramsOf(
  columns: readonly (DeviceColumnInfo | null)[],
  domain: PointDomain,
  alpha: number,
  segment: Segment,
): ArrayBuffer {
  const shift = columns.map((c) => Number(c?.offset ?? 0));
  const [sx, sy, sc] = [shift[0] ?? 0, shift[1] ?? 0, shift[2] ?? 0];
  const kinds = columns.map((c, i) => (c ? (kindOf(c, i === 2) ?? KIND.none) : KIND.none));
  const validity = columns.reduce((mask, c, i) => mask | (c?.buffers.validity ? 1 << i : 0), 0);
  const first = (chunks: (ColumnBuffer | null)[]) => [...chunks.map((c) => c?.rowOffset ?? 0), 0];
  const params = new ArrayBuffer(PARAMS_BYTES);
  const [c0, c1] = domain.color ?? [0, 1];
  new Float32Array(params, 0, 8).set([
    domain.x[0] - sx,
    domain.x[1] - sx,
    domain.y[0] - sy,
    domain.y[1] - sy,
    c0 - sc,
    c1 - sc,
    alpha,
  ]);
  new Uint32Array(params, 32, 12).set([
    ...kinds,
    validity,
    ...first(segment.values),
    ...first(segment.validity),
  ]);
  return params;
}

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
  ): Promise<void> {
    const device = this.#device;
    const drawn = [columns.x, columns.y, columns.color];
    const uniforms: GPUBuffer[] = [];
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const view = context.getCurrentTexture().createView();
    const pass = encoder.beginRenderPass({
      colorAttachments: [{ view, clearValue: [0, 0, 0, 0], loadOp: 'clear', storeOp: 'store' }],
    });
    pass.setPipeline(this.#pipeline);
    for (const segment of segments(drawn, rows)) {
      const uniform = device.createBuffer({
        size: PARAMS_BYTES,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      uniforms.push(uniform);
      device.queue.writeBuffer(uniform, 0, paramsOf(drawn, domain, alpha, segment));
      pass.setBindGroup(0, this.#bindGroup(uniform, segment));
      pass.draw(segment.end - segment.start, 1, segment.start);
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    await device.queue.onSubmittedWorkDone();
    for (const uniform of uniforms) uniform.destroy();
    if (error) throw new Error(`The page's pipeline failed: ${error.message}`);
  }

  /** The uniform, then the value chunks and the validity chunks of x, y and colour that hold `segment`. */
  #bindGroup(uniform: GPUBuffer, segment: Segment): GPUBindGroup {
    const chunks = [...segment.values, ...segment.validity].map((chunk) =>
      chunk ? { buffer: chunk.buffer, size: chunk.byteLength } : { buffer: this.#empty },
    );
    return this.#device.createBindGroup({
      layout: this.#pipeline.getBindGroupLayout(0),
      entries: [{ buffer: uniform }, ...chunks].map((resource, binding) => ({ binding, resource })),
    });
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
