import { withErrorScope } from '../error-scope.js';

/** What a render pipeline is made of. */
export interface PipelineSpec {
  label: string;
  code: string;
  layouts: GPUBindGroupLayout[];
  vertex: string;
  fragment: string;
  format: GPUTextureFormat;
  topology: GPUPrimitiveTopology;
  constants?: Record<string, number>;
  /** The line of `code` where the caller's own code starts: messages then count lines from there. */
  callerLine?: number;
}

/** Premultiplied alpha over what is drawn already: fragments return colour × alpha, alpha. */
const OVER: GPUBlendState = {
  color: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha', operation: 'add' },
  alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha', operation: 'add' },
};

/**
 * Compiles `spec.code` and makes its render pipeline; a compilation error or a pipeline the device
 * refuses becomes `blame(message)` (the WGSL compiler's messages, with line and column).
 */
export async function renderPipeline(
  device: GPUDevice,
  spec: PipelineSpec,
  blame: (message: string) => Error,
): Promise<GPURenderPipeline> {
  const { result: module, error } = withErrorScope(device, () =>
    device.createShaderModule({ label: spec.label, code: spec.code }),
  );
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  const scoped = await error;
  if (errors.length > 0 || scoped) {
    const lines = errors.map((m) => `${where(m, spec.callerLine)}: ${m.message}`);
    throw blame(lines.length > 0 ? lines.join('; ') : (scoped?.message ?? 'unknown error'));
  }
  const layout = device.createPipelineLayout({ label: spec.label, bindGroupLayouts: spec.layouts });
  try {
    return await device.createRenderPipelineAsync({
      label: spec.label,
      layout,
      vertex: { module, entryPoint: spec.vertex, constants: spec.constants ?? {} },
      fragment: { module, entryPoint: spec.fragment, targets: [{ format: spec.format, blend: OVER }] },
      primitive: { topology: spec.topology },
    });
  } catch (failure) {
    throw blame(String((failure as Error)?.message ?? failure));
  }
}

/** Where a compiler message points: in the caller's code when it starts at `callerLine`. */
function where(message: GPUCompilationMessage, callerLine: number | undefined): string {
  if (callerLine === undefined) return `line ${message.lineNum}:${message.linePos}`;
  if (message.lineNum >= callerLine) return `line ${message.lineNum - callerLine + 1}:${message.linePos}`;
  return `generated line ${message.lineNum}:${message.linePos}`;
}

/** A bind group layout of read-only storage buffers at `bindings`, seen by `visibility`. */
export function storageLayout(
  device: GPUDevice,
  label: string,
  bindings: readonly number[],
  visibility: number,
): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label,
    entries: bindings.map((binding) => ({ binding, visibility, buffer: { type: 'read-only-storage' } })),
  });
}

/** Group 1 of every render program: the view's uniform blocks (a dynamic offset per pass) and the row mask. */
export function viewLayout(device: GPUDevice): GPUBindGroupLayout {
  const visibility = GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT;
  return device.createBindGroupLayout({
    label: 'render view',
    entries: [
      { binding: 0, visibility, buffer: { type: 'uniform', hasDynamicOffset: true } },
      { binding: 1, visibility, buffer: { type: 'read-only-storage' } },
    ],
  });
}
