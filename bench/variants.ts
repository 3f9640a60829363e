/** Every measured variant, by id. */
export const VARIANTS = {
  'ceil:read': 'ceiling: fetch + read body (worker)',
  'ceil:decode': 'ceiling: apache-arrow decode in memory (worker)',
  'ceil:writeBuffer': 'ceiling: writeBuffer of the GPU bytes (worker)',
  'ceil:staging': 'ceiling: 2-buffer staging ring of the GPU bytes (worker)',
  'ours:staging': 'arrow-webgpu, staging',
  'ours:writeBuffer': 'arrow-webgpu, writeBuffer',
  'ours:one-decoder': "arrow-webgpu, staging, decoded on the loader's worker (decodeWorkers: 1)",
  'ours:pool': 'arrow-webgpu, staging, every batch decoded on 4 decode workers (decodeWorkers: 4)',
  'ours:read-worker': 'arrow-webgpu, staging, the response read on a worker of its own (readWorker: true)',
  'ours:no-read-worker':
    "arrow-webgpu, staging, the response read on the loader's worker (readWorker: false)",
  'ours:cold': "arrow-webgpu, staging, a new loader's first load (createLoader not timed)",
  'ours:cold-one-decoder': "arrow-webgpu, as ours:cold, decoded on the loader's worker (decodeWorkers: 1)",
  'ours:device':
    "arrow-webgpu, the page's device (createLoader({ device }): chunks written on the main thread)",
  'ours:render': 'arrow-webgpu, staging, then every row drawn in the worker (a frame, then 3 pans)',
  'naive:main': 'naive: arrayBuffer + tableFromIPC + writeBuffer (main thread)',
  'naive:worker': 'naive: same, in a worker',
  'naive:flechette': 'naive: flechette instead of apache-arrow (main thread)',
} as const;

/** A variant id. */
export type VariantId = keyof typeof VARIANTS;

/** What one run of one variant measured (page side). */
export interface RunResult {
  msTotal: number;
  msToFirstBatch: number | null;
  /** `ours:cold`: milliseconds `createLoader` took (worker and device started) before the load began. */
  msCreate?: number;
  msToFirstProgress: number | null;
  longTasks: number;
  longestTaskMs: number;
  fps: number | null;
  stages?: {
    fetchWaitMs: number;
    decodeMs: number;
    encodeMs: number;
    dictionaryMs: number;
    gpuWaitMs: number;
  };
  maxUploadsInFlight?: number;
  maxQueueDepth?: number;
  /** `stats.decodeWorkers`: decode workers the load's batches went to (0: the loader's worker). */
  decodeWorkers?: number;
  /** `ours:render`: ms from the end of the load to the first frame drawn, and of each pan's frame. */
  frames?: { firstMs: number; panMs: number };
}

/**
 * Where a variant's JS heap lives: the loader's worker, the benchmark's worker, or the page; `null` for a
 * worker that lives only during the run (a new loader's), which is not sampled.
 */
export function heapTarget(variant: VariantId): 'loader-worker' | 'bench-worker' | 'page' | null {
  // A new loader's worker, or a second loader's (the sampler follows the first loader's worker).
  if (variant === 'ours:cold' || variant === 'ours:cold-one-decoder') return null;
  if (variant === 'ours:read-worker' || variant === 'ours:no-read-worker') return null;
  // The page's device has a loader of its own, whose worker the sampler cannot tell from the first.
  if (variant === 'ours:device') return null;
  if (variant.startsWith('ours:')) return 'loader-worker';
  if (variant === 'naive:main' || variant === 'naive:flechette') return 'page';
  return 'bench-worker';
}
