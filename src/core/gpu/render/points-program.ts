import type { WgslBinding } from '../../columns/wgsl/column-wgsl.js';
import { GpuError } from '../../errors.js';
import type { BufferChunk, UploadedColumn } from '../upload/table-uploader.js';
import type { Channel } from './channel.js';
import { renderPipeline, storageLayout } from './compile.js';
import { type PointChannels, pointsWgsl } from './points-wgsl.js';

export type { PointChannels } from './points-wgsl.js';

/** What a frame asks of a program. */
export interface Frame {
  /** A point's side in device pixels. */
  pointPixels: number;
}

/** The draws of a view, encoded into a render pass whose group 1 is set. */
export interface RenderProgram {
  /** Makes what `frame` needs and was not made yet (a pipeline is compiled on first use). */
  prepare(frame: Frame): Promise<void>;
  encode(pass: GPURenderPassEncoder, frame: Frame): void;
}

/**
 * Most rows of one chunk the squares draw: six vertices each, counted from the chunk's start by a u32
 * `vertex_index` (a chunk that long is a buffer of over 2.6 GiB a column: past most devices' bindings).
 */
export const ROWS_PER_CHUNK = Math.floor((2 ** 32 - 1) / 6);

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
 * The built-in points over `channels`, drawn from the column buffers themselves (vertex pulling:
 * nothing is copied): one draw per column chunk, with the chunk's buffers in group 0, each draw a
 * single instance of six vertices a row (a square), or one vertex a row (a pixel) when points are a
 * device pixel or smaller. Single-instance draws, not an instance a row: a software rasteriser
 * (SwiftShader) pays for every instance as for a draw, 17–30× slower here.
 */
export class PointsProgram implements RenderProgram {
  /** Pipelines by vertices a point, compiling or compiled; `#ready` has those compiled. */
  readonly #pipelines: Map<number, Promise<GPURenderPipeline>>;
  readonly #ready: Map<number, GPURenderPipeline>;
  readonly #groups: GPUBindGroup[];

  private constructor(
    readonly device: GPUDevice,
    readonly format: GPUTextureFormat,
    readonly chunks: readonly BufferChunk[],
    readonly code: string,
    readonly layouts: GPUBindGroupLayout[],
    groups: GPUBindGroup[],
    shared: PointsProgram | null,
  ) {
    this.#groups = groups;
    this.#pipelines = shared ? shared.#pipelines : new Map();
    this.#ready = shared ? shared.#ready : new Map();
  }

  /**
   * The program of `channels`, its squares' pipeline compiled. `previous` (the view's program before
   * its table grew) lends its layout and pipelines when the code is the same: only the chunks' bind
   * groups are new.
   */
  static async create(
    device: GPUDevice,
    format: GPUTextureFormat,
    channels: PointChannels,
    group1: GPUBindGroupLayout,
    previous?: RenderProgram,
  ): Promise<PointsProgram> {
    const list = [channels.x, channels.y, ...(channels.color ? [channels.color] : [])];
    const chunks = sharedChunks(list.map((c) => c.column));
    const { code, bindings } = pointsWgsl(channels, Math.max(1, chunks[0]?.rows ?? 1));
    const same =
      previous instanceof PointsProgram && previous.code === code && previous.format === format
        ? previous
        : null;
    const binding = bindings.map((b) => b.binding);
    const layout0 =
      same?.layouts[0] ?? storageLayout(device, 'points: column chunk', binding, GPUShaderStage.VERTEX);
    const groups = chunks.map((_, k) => chunkGroup(device, layout0, bindings, list, k));
    const program = new PointsProgram(device, format, chunks, code, [layout0, group1], groups, same);
    if (chunks.length > 0) await program.#pipeline(6);
    return program;
  }

  async prepare(frame: Frame): Promise<void> {
    if (this.chunks.length > 0) await this.#pipeline(verticesFor(frame));
  }

  encode(pass: GPURenderPassEncoder, frame: Frame): void {
    if (this.chunks.length === 0) return;
    const vertices = verticesFor(frame);
    pass.setPipeline(this.#ready.get(vertices) as GPURenderPipeline);
    for (const [k, chunk] of this.chunks.entries()) {
      pass.setBindGroup(0, this.#groups[k] as GPUBindGroup);
      // One vertex a row counts up to 2^32 - 1 rows; squares stop at ROWS_PER_CHUNK.
      const rows = vertices === 1 ? chunk.rows : Math.min(chunk.rows, ROWS_PER_CHUNK);
      pass.draw(vertices * rows, 1, 0, chunk.rowOffset);
    }
  }

  /** The pipeline drawing `vertices` vertices a point (6: squares; 1: pixels), compiled once. */
  #pipeline(vertices: number): Promise<GPURenderPipeline> {
    let pipeline = this.#pipelines.get(vertices);
    if (!pipeline) {
      pipeline = renderPipeline(
        this.device,
        {
          label: vertices === 6 ? 'points: squares' : 'points: pixels',
          code: this.code,
          layouts: this.layouts,
          vertex: 'awg_vertex',
          fragment: 'awg_fragment',
          format: this.format,
          topology: vertices === 6 ? 'triangle-list' : 'point-list',
          constants: { point_vertices: vertices },
        },
        (message) =>
          new GpuError('GPU_VALIDATION', `render: the points pipeline failed to build: ${message}`),
      ).then((made) => {
        this.#ready.set(vertices, made);
        return made;
      });
      this.#pipelines.set(vertices, pipeline);
      pipeline.catch(() => this.#pipelines.delete(vertices));
    }
    return pipeline;
  }
}

/** Vertices a point takes in `frame`: one for points of a device pixel or less, six (a square) otherwise. */
function verticesFor(frame: Frame): number {
  return frame.pointPixels <= 1 ? 1 : 6;
}

/** Group 0 of chunk `k`: each binding's column chunk (values or validity); a column drawn twice is bound twice. */
function chunkGroup(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  bindings: readonly WgslBinding[],
  channels: readonly Channel[],
  k: number,
): GPUBindGroup {
  return device.createBindGroup({
    label: `points: chunk ${k}`,
    layout,
    entries: bindings.map((b) => {
      const column = (channels.find((c) => c.column.plan.name === b.column) as Channel).column;
      const buffers = b.kind === 'values' ? column.values : (column.validity ?? []);
      return { binding: b.binding, resource: { buffer: (buffers[k] as BufferChunk).buffer } };
    }),
  });
}
