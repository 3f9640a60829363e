import { tableFromIPC as flechetteFromIPC } from '@uwdata/flechette';
import { tableFromIPC } from 'apache-arrow';

/** What a dashboard does today: whole file, decode, then one writeBuffer per column. */
export async function naiveLoad(
  device: GPUDevice,
  url: string,
  decoder: 'apache-arrow' | 'flechette',
): Promise<{ msTotal: number; msToFirstBatch: number; buffers: GPUBuffer[] }> {
  const t0 = performance.now();
  const bytes = await (await fetch(url)).arrayBuffer();
  const columns: ArrayLike<number>[] = [];
  if (decoder === 'apache-arrow') {
    const table = tableFromIPC(new Uint8Array(bytes));
    for (const field of table.schema.fields)
      columns.push(table.getChild(field.name)?.toArray() as ArrayLike<number>);
  } else {
    const table = flechetteFromIPC(new Uint8Array(bytes), { useProxy: false });
    for (const name of table.names) columns.push(table.getChild(name).toArray() as ArrayLike<number>);
  }
  const buffers: GPUBuffer[] = [];
  for (const values of columns) {
    const gpu =
      values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint32Array
        ? values
        : values instanceof Float64Array
          ? new Float32Array(values)
          : values instanceof Int8Array || values instanceof Int16Array
            ? new Int32Array(values as Int16Array)
            : new Uint32Array(values as Uint16Array);
    const buffer = device.createBuffer({
      size: Math.max(4, gpu.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, gpu.buffer as ArrayBuffer, gpu.byteOffset, gpu.byteLength);
    buffers.push(buffer);
  }
  await device.queue.onSubmittedWorkDone();
  const msTotal = performance.now() - t0;
  // Nothing is on the GPU before everything is.
  return { msTotal, msToFirstBatch: msTotal, buffers };
}

/** A device with the adapter's buffer limits. */
export async function openDevice(): Promise<GPUDevice> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  return adapter.requestDevice({
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  });
}
