import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { expect } from 'vitest';
import { validityWordCount } from '../../src/core/columns/type-plan.js';
import type { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import type { BufferChunk, UploadedColumn } from '../../src/core/gpu/upload/table-uploader.js';
import { readBytes } from './dawn.js';

/** A column as the GPU holds it: one 32-bit value a row and, when it has nulls, validity words. */
export interface ColumnImage {
  values: Uint8Array;
  validity: Uint8Array | null;
  nullCount: number;
}

/** A column as the source says it must be on the GPU. */
export interface ExpectedColumn extends ColumnImage {
  /** The validity words whether or not the column has nulls (all ones then). */
  validBits: Uint8Array;
}

type PutValue = (view: DataView, byteOffset: number, value: number) => void;

/** How a row's value is written on the GPU, worked out here from the Arrow type rather than the library's plan. */
function putterFor(type: DataType): PutValue {
  if (DataType.isFloat(type)) return (view, at, value) => view.setFloat32(at, Math.fround(value), true);
  if (DataType.isInt(type) && type.bitWidth <= 32) {
    return type.isSigned
      ? (view, at, value) => view.setInt32(at, value, true)
      : (view, at, value) => view.setUint32(at, value, true);
  }
  throw new Error(`no GPU encoding expected for ${String(type)}`);
}

/** A read past a decoded buffer, which JS would let pass silently (as `undefined`). */
export class OutOfBoundsRead extends Error {
  override name = 'OutOfBoundsRead';
}

/**
 * A null row's slot, which Arrow leaves unspecified and the loader copies as it is. apache-arrow's
 * values begin at the column's first row; its offset applies to the validity bitmap only.
 */
function slotValue(vector: Vector, row: number): number {
  const data = vector.data[0];
  if (!data || vector.data.length !== 1) throw new Error('expected a batch column of one chunk');
  const values = data.values as ArrayLike<number>;
  if (row >= values.length) throw new OutOfBoundsRead(`row ${row} of a column of ${values.length} values`);
  return values[row] as number;
}

function expectedColumn(batches: readonly RecordBatch[], name: string, rows: number): ExpectedColumn {
  const values = new DataView(new ArrayBuffer(rows * 4));
  const words = new Uint32Array(validityWordCount(rows));
  let row = 0;
  let nullCount = 0;
  for (const batch of batches) {
    const vector = batch.getChild(name);
    if (!vector) throw new Error(`no column ${name} in a source batch`);
    const put = putterFor(vector.type);
    for (let i = 0; i < batch.numRows; i++, row++) {
      const valid = vector.isValid(i);
      const slot = slotValue(vector, i);
      put(values, row * 4, valid ? (vector.get(i) as number) : slot);
      if (valid) words[row >>> 5] = (words[row >>> 5] as number) | (1 << (row & 31));
      else nullCount++;
    }
  }
  const validBits = new Uint8Array(words.buffer);
  return {
    values: new Uint8Array(values.buffer),
    validity: nullCount > 0 ? validBits : null,
    nullCount,
    validBits,
  };
}

/**
 * What each named column must hold on the GPU, computed row by row from the source batches: integers
 * widened to 32 bits, floats rounded with `Math.fround`, a validity bit a row (when the column has nulls).
 */
export function expectedColumns(
  batches: readonly RecordBatch[],
  names: readonly string[],
): Map<string, ExpectedColumn> {
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  return new Map(names.map((name) => [name, expectedColumn(batches, name, rows)]));
}

/** Reads every column of an uploaded table back from the GPU. */
export async function readColumns(
  device: GPUDevice,
  tracker: BufferTracker,
  _numRows: number,
  columns: readonly UploadedColumn[],
): Promise<Map<string, ColumnImage>> {
  const images = new Map<string, ColumnImage>();
  for (const column of columns) {
    const values = await readChunkBytes(device, tracker, column.values);
    const validity = column.validity ? await readChunkBytes(device, tracker, column.validity) : null;
    images.set(column.plan.name, { values, validity, nullCount: column.nullCount });
  }
  return images;
}

/** Destroys the buffers of uploaded columns. */
export function destroyColumns(tracker: BufferTracker, columns: readonly UploadedColumn[]): void {
  for (const column of columns) {
    for (const chunk of [...column.values, ...(column.validity ?? [])]) tracker.destroy(chunk.buffer);
  }
}

/** The bytes of a column's chunks, in row order. */
export async function readChunkBytes(
  device: GPUDevice,
  tracker: BufferTracker,
  chunks: readonly BufferChunk[],
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const chunk of chunks) parts.push(await readBytes(device, tracker, chunk.buffer, chunk.byteLength));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** The first 32-bit word where two byte arrays differ, described; `null` when they are equal. */
function firstDifference(what: string, actual: Uint8Array, expected: Uint8Array): string | null {
  if (actual.byteLength !== expected.byteLength) {
    return `${what}: ${actual.byteLength} bytes, expected ${expected.byteLength}`;
  }
  const a = new DataView(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = new DataView(expected.buffer, expected.byteOffset, expected.byteLength);
  for (let at = 0; at < actual.byteLength; at += 4) {
    const got = a.getUint32(at, true);
    const want = e.getUint32(at, true);
    if (got !== want) {
      const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
      return `${what} word ${at / 4}: GPU has ${hex(got)}, the source gives ${hex(want)}`;
    }
  }
  return null;
}

/**
 * How the GPU images differ from the expected ones, the first difference of each column. `declared`:
 * the null counts and validity presence must match too; without it (bytes whose declared null counts may
 * disagree with their bitmaps), a validity buffer on the GPU must hold the source's bits, and a column
 * without one must have no null row.
 */
export function columnDifferences(
  actual: ReadonlyMap<string, ColumnImage>,
  expected: ReadonlyMap<string, ExpectedColumn>,
  declared = true,
): string[] {
  const differences: string[] = [];
  for (const [name, want] of expected) {
    const got = actual.get(name);
    if (!got) {
      differences.push(`column ${name} is missing`);
      continue;
    }
    if (declared && got.nullCount !== want.nullCount) {
      differences.push(`column ${name}: ${got.nullCount} nulls, expected ${want.nullCount}`);
    }
    const values = firstDifference(`column ${name} values`, got.values, want.values);
    if (values) differences.push(values);
    const validity = validityDifference(name, got, want, declared);
    if (validity) differences.push(validity);
  }
  return differences;
}

function validityDifference(
  name: string,
  got: ColumnImage,
  want: ExpectedColumn,
  declared: boolean,
): string | null {
  if (declared && (got.validity === null) !== (want.validity === null)) {
    return `column ${name}: validity ${got.validity ? 'present' : 'absent'} on the GPU`;
  }
  if (got.validity) return firstDifference(`column ${name} validity`, got.validity, want.validBits);
  return want.nullCount > 0 ? `column ${name}: ${want.nullCount} null rows but no validity on the GPU` : null;
}

/** Expects the GPU images to equal the expected ones byte for byte, naming the first difference of each column. */
export function expectSameColumns(
  actual: ReadonlyMap<string, ColumnImage>,
  expected: ReadonlyMap<string, ExpectedColumn>,
): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  expect(columnDifferences(actual, expected)).toEqual([]);
}
