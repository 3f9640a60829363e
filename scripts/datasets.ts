import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type DataType,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Uint8,
  Uint16,
  Uint32,
  Utf8,
} from 'apache-arrow';

/** Column types the generator can make. */
export type ColumnKind = 'f32' | 'f64' | 'i32' | 'u32' | 'i16' | 'u16' | 'i8' | 'u8' | 'utf8';

/** A deterministic synthetic data set. */
export interface DatasetSpec {
  rows: number;
  batchRows: number;
  format: 'stream' | 'file';
  columns: Record<string, ColumnKind>;
  /** Fraction of null rows in columns named here (0..1). */
  nulls?: Record<string, number>;
  seed?: number;
}

/** Four columns of mixed numeric types (18 bytes a row): what the demo and the benchmark load. */
export const MIXED_COLUMNS: Record<string, ColumnKind> = { x: 'f32', y: 'f64', id: 'i32', kind: 'u16' };

/** Bytes a row of `columns` takes in Arrow, validity bits not counted. */
export function arrowBytesPerRow(columns: Record<string, ColumnKind>): number {
  const size: Record<ColumnKind, number> = {
    f32: 4,
    f64: 8,
    i32: 4,
    u32: 4,
    i16: 2,
    u16: 2,
    i8: 1,
    u8: 1,
    utf8: 8,
  };
  return Object.values(columns).reduce((n, kind) => n + size[kind], 0);
}

function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'f32':
      return new Float32();
    case 'f64':
      return new Float64();
    case 'i32':
      return new Int32();
    case 'u32':
      return new Uint32();
    case 'i16':
      return new Int16();
    case 'u16':
      return new Uint16();
    case 'i8':
      return new Int8();
    case 'u8':
      return new Uint8();
    case 'utf8':
      return new Utf8();
  }
}

/** A small, fast, seedable PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function values(kind: ColumnKind, n: number, next: () => number, row0: number) {
  switch (kind) {
    case 'f32':
      return Float32Array.from({ length: n }, () => (next() - 0.5) * 2000);
    case 'f64':
      return Float64Array.from({ length: n }, () => (next() - 0.5) * 1e6 + next() * 1e-7);
    case 'i32':
      return Int32Array.from({ length: n }, (_, i) => ((row0 + i) * 2654435761) | 0);
    case 'u32':
      return Uint32Array.from({ length: n }, () => Math.floor(next() * 4294967296));
    case 'i16':
      return Int16Array.from({ length: n }, () => Math.floor(next() * 65536) - 32768);
    case 'u16':
      return Uint16Array.from({ length: n }, () => Math.floor(next() * 65536));
    case 'i8':
      return Int8Array.from({ length: n }, () => Math.floor(next() * 256) - 128);
    case 'u8':
      return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    case 'utf8':
      throw new Error('utf8 is made by utf8Data');
  }
}

function utf8Data(n: number, next: () => number) {
  const strings = Array.from({ length: n }, () => `s${Math.floor(next() * 1000)}`);
  const encoded = new TextEncoder().encode(strings.join(''));
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] as number) + (strings[i] as string).length;
  return makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data: encoded });
}

function validity(n: number, fraction: number, next: () => number): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (next() >= fraction) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
    else nulls++;
  }
  return { bitmap, nulls };
}

/** The schema of a spec. */
export function schemaOf(spec: DatasetSpec): Schema {
  return new Schema(
    Object.entries(spec.columns).map(
      ([name, kind]) => new Field(name, arrowType(kind), (spec.nulls?.[name] ?? 0) > 0),
    ),
  );
}

/** The spec's record batches, made one at a time. */
export function* batchesOf(spec: DatasetSpec): Generator<RecordBatch> {
  const schema = schemaOf(spec);
  const next = random(spec.seed ?? 42);
  for (let row0 = 0; row0 < spec.rows; row0 += spec.batchRows) {
    const n = Math.min(spec.batchRows, spec.rows - row0);
    const children = Object.entries(spec.columns).map(([name, kind]) => {
      const fraction = spec.nulls?.[name] ?? 0;
      if (kind === 'utf8') return utf8Data(n, next);
      const data = values(kind, n, next, row0);
      if (fraction <= 0) return makeData({ type: arrowType(kind), length: n, data } as never);
      const { bitmap, nulls } = validity(n, fraction, next);
      return makeData({
        type: arrowType(kind),
        length: n,
        data,
        nullBitmap: bitmap,
        nullCount: nulls,
      } as never);
    });
    const struct = makeData({ type: new Struct(schema.fields), length: n, children, nullCount: 0 });
    yield new RecordBatch(schema, struct);
  }
}

/** Writes the spec to `path` batch by batch (atomically: a partial file never has the final name). */
export async function writeDataset(path: string, spec: DatasetSpec): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  const writer =
    spec.format === 'file'
      ? new RecordBatchFileWriter({ autoDestroy: true })
      : new RecordBatchStreamWriter({ autoDestroy: true });
  writer.reset(undefined, schemaOf(spec));
  // Drain the writer as it goes (async iteration works with every apache-arrow build, DOM or Node).
  const drained = (async () => {
    for await (const chunk of writer) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  })();
  for (const batch of batchesOf(spec)) {
    writer.write(batch);
    await new Promise((resolve) => setImmediate(resolve));
  }
  writer.finish();
  await drained;
  await rename(partial, path);
}

/** Writes the spec to `path` unless that file already exists. */
export async function ensureDataset(path: string, spec: DatasetSpec): Promise<boolean> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) await writeDataset(path, spec);
  return !exists;
}
