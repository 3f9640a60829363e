import { rejectOnGpuError, withErrorScope } from '../error-scope.js';

/** A storage buffer to read back through `staging` (`MAP_READ | COPY_DST`, kept by its owner and reused). */
export interface ReadTarget {
  buffer: GPUBuffer;
  staging: GPUBuffer;
  bytes: number;
}

/**
 * Records GPU work with `encode` and submits it in an error scope (a refused dispatch fails the query
 * instead of leaving zeros); when `read` is given, copies its first `bytes` through its staging buffer
 * and returns them. Callers serialise uses of one staging buffer.
 */
export async function submitAndRead(
  device: GPUDevice,
  label: string,
  encode: (encoder: GPUCommandEncoder) => void,
  read?: ReadTarget,
): Promise<ArrayBuffer> {
  const { error } = withErrorScope(device, () => {
    const encoder = device.createCommandEncoder({ label });
    encode(encoder);
    if (read && read.bytes > 0) encoder.copyBufferToBuffer(read.buffer, 0, read.staging, 0, read.bytes);
    device.queue.submit([encoder.finish()]);
  });
  if (!read || read.bytes === 0) {
    await Promise.all([rejectOnGpuError(error, label), device.queue.onSubmittedWorkDone()]);
    return new ArrayBuffer(0);
  }
  const mapped = read.staging.mapAsync(GPUMapMode.READ, 0, read.bytes);
  try {
    await Promise.all([rejectOnGpuError(error, label), mapped]);
    return read.staging.getMappedRange(0, read.bytes).slice(0);
  } finally {
    await mapped.catch(() => {});
    if (read.staging.mapState === 'mapped') read.staging.unmap();
  }
}

/** Runs `pipeline` over `groups` workgroups with the bind groups in order. */
export function dispatch(
  encoder: GPUCommandEncoder,
  pipeline: GPUComputePipeline,
  bindGroups: readonly GPUBindGroup[],
  groups: number,
): void {
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  for (const [i, group] of bindGroups.entries()) pass.setBindGroup(i, group);
  pass.dispatchWorkgroups(groups);
  pass.end();
}

/** Runs `work` after every earlier call of the returned function has settled: one user of scratch at a time. */
export function serialiser(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const run = tail.then(work, work);
    tail = run.catch(() => {});
    return run;
  };
}
