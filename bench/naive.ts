import { tableFromIPC as flechetteFromIPC } from '@uwdata/flechette';
import { tableFromIPC } from 'apache-arrow';

/** What both decoders' columns offer: the Arrow type, the values as one array, and iteration. */
interface DecodedColumn {
  readonly length: number;
  readonly type: {
    typeId: number;
    bitWidth?: number;
    /** apache-arrow's name for an Int's signedness. */
    isSigned?: boolean;
    /** flechette's. */
    signed?: boolean;
  };
  toArray(): unknown;
  [Symbol.iterator](): Iterator<unknown>;
}

/** Arrow type ids (the same in apache-arrow and flechette). */
const TYPE = {
  Dictionary: -1,
  Int: 2,
  Float: 3,
  Utf8: 5,
  Bool: 6,
  Timestamp: 10,
  LargeUtf8: 20,
  Utf8View: 24,
};

type GpuArray = Float32Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/**
 * One column as a dashboard uploads it today: a typed array as its bytes (64-bit integers and timestamps
 * as their 8 bytes, the library's lo/hi words), Float64 narrowed to f32 and 8/16-bit integers widened to
 * 32 bits (the library's default encodings), Bool unpacked to one u32 a row, strings and dictionaries as u32
 * codes handed out by a JS Map in order of appearance (null: 0xffffffff). Validity is not uploaded.
 */
export function gpuArray(column: DecodedColumn): GpuArray {
  const { typeId } = column.type;
  if (typeId === TYPE.Bool) {
    const out = new Uint32Array(column.length);
    let i = 0;
    for (const v of column) out[i++] = v ? 1 : 0;
    return out;
  }
  if (
    typeId === TYPE.Dictionary ||
    typeId === TYPE.Utf8 ||
    typeId === TYPE.LargeUtf8 ||
    typeId === TYPE.Utf8View
  ) {
    const codes = new Map<unknown, number>();
    const out = new Uint32Array(column.length);
    let i = 0;
    for (const v of column) {
      if (v === null || v === undefined) {
        out[i++] = 0xffffffff;
        continue;
      }
      let code = codes.get(v);
      if (code === undefined) {
        code = codes.size;
        codes.set(v, code);
      }
      out[i++] = code;
    }
    return out;
  }
  const values = column.toArray();
  if (Array.isArray(values)) {
    // flechette gives a plain array (null for null rows) when a column has nulls.
    const { bitWidth = 32 } = column.type;
    if (typeId === TYPE.Timestamp || (typeId === TYPE.Int && bitWidth === 64))
      return BigInt64Array.from(values, (v) => BigInt(v ?? 0));
    if (typeId === TYPE.Float) return Float32Array.from(values, (v) => v ?? 0);
    const signed = column.type.isSigned ?? column.type.signed ?? true;
    return signed ? Int32Array.from(values, (v) => v ?? 0) : Uint32Array.from(values, (v) => v ?? 0);
  }
  if (
    values instanceof Float32Array ||
    values instanceof Int32Array ||
    values instanceof Uint32Array ||
    values instanceof BigInt64Array ||
    values instanceof BigUint64Array
  )
    return values;
  if (values instanceof Float64Array) return new Float32Array(values);
  if (values instanceof Int8Array || values instanceof Int16Array) return new Int32Array(values);
  if (values instanceof Uint8Array || values instanceof Uint16Array) return new Uint32Array(values);
  throw new Error(`naive: no upload for ${Object.prototype.toString.call(values)}`);
}

/** What a dashboard does today: whole file, decode, then one writeBuffer per column. */
export async function naiveLoad(
  device: GPUDevice,
  url: string,
  decoder: 'apache-arrow' | 'flechette',
): Promise<{ msTotal: number; msToFirstBatch: number; buffers: GPUBuffer[] }> {
  const t0 = performance.now();
  const bytes = await (await fetch(url)).arrayBuffer();
  const columns: DecodedColumn[] = [];
  if (decoder === 'apache-arrow') {
    const table = tableFromIPC(new Uint8Array(bytes));
    for (const field of table.schema.fields)
      columns.push(table.getChild(field.name) as unknown as DecodedColumn);
  } else {
    // 64-bit integers and timestamps as BigInt64Array, as apache-arrow gives them.
    const table = flechetteFromIPC(new Uint8Array(bytes), {
      useProxy: false,
      useBigInt: true,
      useBigIntTimestamp: true,
    });
    for (const name of table.names) columns.push(table.getChild(name) as unknown as DecodedColumn);
  }
  const buffers: GPUBuffer[] = [];
  for (const column of columns) {
    const gpu = gpuArray(column);
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

/**
 * Destroys a naive load's buffers and has the GPU free them now (as the library does when a table is
 * destroyed), not during the next run's first copy.
 */
export function releaseBuffers(device: GPUDevice, buffers: readonly GPUBuffer[]): void {
  for (const b of buffers) b.destroy();
  device.queue.submit([device.createCommandEncoder().finish()]);
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
