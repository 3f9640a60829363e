import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { readBytes } from './dawn.js';

/** The compiler's error messages for a WGSL module (line:column message), empty when it compiles. */
export async function compileErrors(device: GPUDevice, code: string): Promise<string[]> {
  // A module that fails to compile also raises a validation error: caught here, reported by the messages.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  await device.popErrorScope();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
}

/** A buffer a compute pass reads: bound at `binding` of `group`. */
export interface BoundBuffer {
  group: number;
  binding: number;
  buffer: GPUBuffer;
}

/** A storage buffer holding `words`, for a shader to read. */
export function wordBuffer(
  device: GPUDevice,
  words: Uint32Array<ArrayBuffer>,
  label = 'test input',
): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: Math.max(4, words.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, words);
  return buffer;
}

/**
 * Runs `main` of `code` once (one workgroup), its inputs bound as given and an output of `outWords`
 * words at `out` (group, binding), and returns the output. Every buffer it makes is destroyed.
 */
export async function runCompute(
  device: GPUDevice,
  code: string,
  inputs: readonly BoundBuffer[],
  out: { group: number; binding: number; words: number },
  constants: Record<string, number> = {},
): Promise<Uint32Array> {
  const tracker = new BufferTracker(device);
  const size = out.words * 4;
  const output = await tracker.create({
    label: 'test output',
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  try {
    const module = device.createShaderModule({ code });
    const pipeline = await device.createComputePipelineAsync({
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants },
    });
    const all = [...inputs, { group: out.group, binding: out.binding, buffer: output }];
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    for (const group of new Set(all.map((b) => b.group))) {
      const entries = all
        .filter((b) => b.group === group)
        .map((b) => ({ binding: b.binding, resource: { buffer: b.buffer } }));
      pass.setBindGroup(
        group,
        device.createBindGroup({ layout: pipeline.getBindGroupLayout(group), entries }),
      );
    }
    pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const bytes = await readBytes(device, tracker, output, size);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, out.words);
  } finally {
    tracker.destroy(output);
  }
}
