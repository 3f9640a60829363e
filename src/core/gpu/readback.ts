import { alignUp } from '../columns/type-plan.js';
import type { BufferTracker } from './buffer-tracker.js';
import { rejectOnGpuError, withErrorScope } from './error-scope.js';

/** Copies the first `byteLength` bytes of `source` into a new ArrayBuffer through a `MAP_READ` buffer. */
export async function readBack(
  device: GPUDevice,
  tracker: BufferTracker,
  source: GPUBuffer,
  byteLength: number,
  label: string,
): Promise<ArrayBuffer> {
  if (byteLength === 0) return new ArrayBuffer(0);
  const size = alignUp(byteLength);
  const staging = await tracker.create({
    label: `read back ${label}`,
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    // In a scope: a copy the GPU refuses (its source destroyed meanwhile) must fail this read, not leave
    // zeros behind and raise an uncaptured error that fails every load in flight on the device.
    const { error } = withErrorScope(device, () => {
      const encoder = device.createCommandEncoder({ label: `read back ${label}` });
      encoder.copyBufferToBuffer(source, 0, staging, 0, size);
      device.queue.submit([encoder.finish()]);
    });
    await Promise.all([rejectOnGpuError(error, `reading back ${label}`), staging.mapAsync(GPUMapMode.READ)]);
    // The mapped range is detached on unmap, so the caller gets its own copy.
    return staging.getMappedRange(0, size).slice(0, byteLength);
  } finally {
    tracker.destroy(staging);
  }
}
