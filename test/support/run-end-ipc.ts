import {
  type CompressionType,
  type Data,
  DataType,
  Field,
  type Int16,
  type Int32,
  type Int64,
  makeData,
  makeVector,
  Struct,
  type Table,
  Type,
  tableToIPC,
  type Vector,
} from 'apache-arrow';
import type { BufferRegion } from 'apache-arrow/ipc/metadata/message';
import { TypeTag } from '../../src/core/ipc/metadata/type.js';
import { toBigEndian } from './big-endian.js';
import { writeCompressed } from './compressed-ipc.js';
import { retyped } from './unreadable-ipc.js';

// RunEndEncoded IPC, which apache-arrow cannot write: each RunEndEncoded array is written as the struct of
// its children (`run_ends`, `values`, each as long as it has runs, under a struct as long as the array);
// then the field's type tag becomes RunEndEncoded and the struct's validity buffer is taken out of each
// record batch (a RunEndEncoded node has no buffer). Alongside, the same rows as plain columns, expanded
// here row by row, which a RunEndEncoded column must load exactly as.

/** The run end types. */
export type RunEndType = Int16 | Int32 | Int64;

/**
 * A RunEndEncoded array of `length` rows (the last run end by default) as apache-arrow writes the struct
 * of its children: run ends `ends` (strictly increasing, as the array's writer says) of type `endType`,
 * and `values`, one a run (more may follow).
 */
export function runEndVector(
  endType: RunEndType,
  ends: readonly number[],
  values: Vector,
  length = ends[ends.length - 1] ?? 0,
): Vector<Struct> {
  const data =
    endType.bitWidth === 64
      ? BigInt64Array.from(ends, BigInt)
      : endType.bitWidth === 16
        ? Int16Array.from(ends)
        : Int32Array.from(ends);
  const runEnds = makeData({ type: endType, length: ends.length, nullCount: 0, data } as never);
  const type = new Struct([new Field('run_ends', endType, false), new Field('values', values.type, true)]);
  return makeVector(
    makeData({ type, length, nullCount: 0, children: [runEnds, values.data[0] as Data] } as never),
  ) as unknown as Vector<Struct>;
}

/** Run ends splitting `rows` rows into runs of 1 to `longest` rows, drawn with `random`. */
export function randomRunEnds(rows: number, longest: number, random: () => number): number[] {
  const ends: number[] = [];
  for (let end = 0; end < rows; ) {
    end = Math.min(rows, end + 1 + Math.floor(random() * longest));
    ends.push(end);
  }
  return ends;
}

/**
 * The rows of a RunEndEncoded array (`runEndVector`'s) as a plain column of its values' type: row i
 * holds the value (and validity) of the first run whose end is above i, null slots included, bytes as
 * they are.
 */
export function expandRuns(ree: Vector<Struct>): Vector {
  const data = ree.data[0] as Data<Struct>;
  const [runEnds, values] = data.children as [Data, Data];
  const ends = Array.from(runEnds.values as ArrayLike<number | bigint>, Number);
  const runOfRow: number[] = [];
  for (let row = 0, run = 0; row < data.length; row++) {
    while ((ends[run] as number) <= data.offset + row) run++;
    runOfRow.push(run);
  }
  return makeVector(take(values, runOfRow));
}

/** The rows `rows` of `data`, in that order, as new data of the same type. */
function take(data: Data, rows: readonly number[]): Data {
  const type = data.type;
  const nullBitmap = bitsOf(rows.map((r) => data.getValid(r)));
  const nullCount = rows.filter((r) => !data.getValid(r)).length;
  const base = { type, length: rows.length, nullCount, nullBitmap };
  if (type.typeId === Type.Null) return makeData({ type, length: rows.length } as never);
  if (type.typeId === Type.Bool) {
    const bits = data.values as Uint8Array;
    const at = (r: number) =>
      (((bits[(data.offset + r) >> 3] as number) >> ((data.offset + r) & 7)) & 1) === 1;
    return makeData({ ...base, data: bitsOf(rows.map(at)) } as never);
  }
  if (type.typeId === Type.FixedSizeList) {
    const size = (type as DataType & { listSize: number }).listSize;
    const child = take(
      data.children[0] as Data,
      rows.flatMap((r) => Array.from({ length: size }, (_, k) => r * size + k)),
    );
    return makeData({ ...base, child } as never);
  }
  if (DataType.isUtf8(type) || DataType.isBinary(type)) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const parts = rows.map((r) => bytes.subarray(offsets[r] as number, offsets[r + 1] as number));
    const valueOffsets = new Int32Array(rows.length + 1);
    parts.forEach((p, i) => {
      valueOffsets[i + 1] = (valueOffsets[i] as number) + p.byteLength;
    });
    const joined = new Uint8Array(valueOffsets[rows.length] as number);
    parts.forEach((p, i) => {
      joined.set(p, valueOffsets[i] as number);
    });
    return makeData({ ...base, valueOffsets, data: joined } as never);
  }
  // Fixed-width values (dictionary indices included): `stride` elements a row, copied as they are.
  const values = data.values as Uint8Array;
  const stride = data.stride;
  const Typed = values.constructor as new (length: number) => typeof values;
  const out = new Typed(rows.length * stride);
  rows.forEach((r, i) => {
    out.set(values.subarray(r * stride, (r + 1) * stride), i * stride);
  });
  return makeData({ ...base, data: out, dictionary: data.dictionary } as never);
}

/** LSB-first bits of `flags`. */
function bitsOf(flags: readonly boolean[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(flags.length / 8));
  flags.forEach((on, i) => {
    if (on) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  });
  return bits;
}

/** Body buffers apache-arrow writes for a node of `type`, its children's aside. */
function ownBuffers(type: DataType): number {
  switch (type.typeId) {
    case Type.Null:
      return 0;
    case Type.Struct:
    case Type.FixedSizeList:
      return 1;
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary:
      return 3;
    default:
      return 2; // validity and values (dictionary indices, for a dictionary)
  }
}

/**
 * The first buffer of each field (by path, `s.r` for a struct's child) among a record batch's buffers,
 * walking the fields as apache-arrow writes them.
 */
function firstBuffers(fields: readonly Field[], prefix = '', at = { buffer: 0 }): Map<string, number> {
  const out = new Map<string, number>();
  for (const field of fields) {
    const path = `${prefix}${field.name}`;
    out.set(path, at.buffer);
    at.buffer += ownBuffers(field.type);
    if (DataType.isDictionary(field.type)) continue; // its values come in dictionary batches
    for (const [p, b] of firstBuffers(field.type.children ?? [], `${path}.`, at)) out.set(p, b);
  }
  return out;
}

/** How `runEndIpc` writes the bodies: compressed, big-endian (then compressed, if asked) or neither. */
export interface RunEndWriting {
  compression?: CompressionType;
  bigEndian?: boolean;
}

/**
 * `table` as IPC where the struct columns at `paths` (`a`, or `s.r` under a struct) are RunEndEncoded
 * arrays (`runEndVector`'s): a stream, a file, or a file whose schema is only in its footer (a
 * big-endian source: a stream only).
 */
export function runEndIpc(
  table: Table,
  paths: readonly string[],
  format: 'stream' | 'file' | 'footer-schema',
  { compression, bigEndian = false }: RunEndWriting = {},
): Uint8Array {
  const starts = firstBuffers(table.schema.fields);
  const validity = new Set(paths.map((p) => starts.get(p)));
  const edit = {
    tags: Object.fromEntries(paths.map((p) => [p, TypeTag.RunEndEncoded])),
    buffers: (buffers: BufferRegion[]) => buffers.filter((_, i) => !validity.has(i)),
  };
  // The big-endian twin swaps the struct's children as it would the RunEndEncoded array's.
  const written = bigEndian
    ? toBigEndian(tableToIPC(table, 'stream'), compression)
    : compression === undefined
      ? undefined
      : writeCompressed(table, compression, 'stream');
  return retyped(table, edit, format, written);
}
