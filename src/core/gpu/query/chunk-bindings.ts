import type { UploadedColumn } from '../upload/table-uploader.js';
import type { QueryGpu } from './query-gpu.js';

/** Most workgroups one chunk's reduction dispatches: each thread then loops over its share of rows. */
export const MAX_GROUPS = 1024;

/** One column chunk as the query kernels bind it (group 0 of every kernel). */
export interface BoundChunk {
  rowOffset: number;
  rows: number;
  /** Workgroups of a reduction over the chunk, and the index of its first partial record. */
  groups: number;
  partialBase: number;
  group0: GPUBindGroup;
}

/** The layout of group 0: values, validity, and the chunk's uniform (see wgsl-items.ts). */
export function chunkLayout(device: GPUDevice): GPUBindGroupLayout {
  const storage = { type: 'read-only-storage' } as const;
  return device.createBindGroupLayout({
    label: 'query chunk',
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: storage },
      { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: storage },
      { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
    ],
  });
}

/**
 * Binds every chunk of `column` once, for every query on it: a chunk's uniform says its rows, its first
 * mask word, whether it has validity (a column without nulls binds a stand-in, never read) and where its
 * workgroups' partial records start.
 */
export async function bindChunks(gpu: QueryGpu, column: UploadedColumn): Promise<BoundChunk[]> {
  const chunks: BoundChunk[] = [];
  let partialBase = 0;
  for (const [i, chunk] of column.values.entries()) {
    const label = `query chunk ${i} of ${column.plan.name}`;
    const groups = Math.max(1, Math.min(MAX_GROUPS, Math.ceil(chunk.rows / gpu.workgroup)));
    const validity = column.validity?.[i]?.buffer ?? null;
    const words = new Uint32Array([chunk.rows, chunk.rowOffset / 32, validity ? 1 : 0, partialBase]);
    const uniform = await gpu.words(label, words, GPUBufferUsage.UNIFORM);
    gpu.noValidity ??= await gpu.buffer('query: no validity', 4, GPUBufferUsage.STORAGE);
    const group0 = gpu.bind(label, gpu.chunkLayout, [chunk.buffer, validity ?? gpu.noValidity, uniform]);
    chunks.push({ rowOffset: chunk.rowOffset, rows: chunk.rows, groups, partialBase, group0 });
    partialBase += groups;
  }
  return chunks;
}
