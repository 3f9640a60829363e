import type { RecordBatch } from 'apache-arrow';
import { ArrowGpuError } from '../../src/core/errors.js';
import { type BatchStream, openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';

/** Opens `source` through the framer and apache-arrow; `file` (the whole bytes) serves footer reads. */
export function openStream(
  source: AsyncIterable<Uint8Array>,
  url: string,
  file?: Uint8Array,
): Promise<BatchStream> {
  const readTail = file ? async (n: number) => file.subarray(Math.max(0, file.byteLength - n)) : undefined;
  return openBatchStream(new IpcFramer(source, url, undefined, readTail), url);
}

/** Every batch of `source`, decoded. */
export async function decodeAll(
  source: AsyncIterable<Uint8Array>,
  url = 'test://bytes',
  file?: Uint8Array,
): Promise<RecordBatch[]> {
  const stream = await openStream(source, url, file);
  const out: RecordBatch[] = [];
  for await (const { batch } of stream.batches) out.push(batch);
  return out;
}

/** `'OK'`, or the code of the library error `promise` rejects with. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof ArrowGpuError) return error.code;
    throw error;
  }
}

/** The library error `promise` rejects with. */
export async function errorOf(promise: Promise<unknown>): Promise<ArrowGpuError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ArrowGpuError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Each batch's columns as plain arrays, to compare two decodes. */
export function columnsOf(batches: RecordBatch[]): unknown[][] {
  return batches.map((b) => b.schema.fields.map((_, i) => b.getChildAt(i)?.toArray()));
}

/** Each batch's columns as JSON (struct rows, maps, big integers and typed arrays included), to compare decodes. */
export function valuesOf(batches: RecordBatch[]): string[][] {
  return batches.map((b) =>
    b.schema.fields.map((_, i) => JSON.stringify([...(b.getChildAt(i) ?? [])], plain)),
  );
}

function plain(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (ArrayBuffer.isView(value)) return [...(value as unknown as Iterable<unknown>)].map((v) => plain('', v));
  return value;
}
