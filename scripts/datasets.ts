import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  Bool,
  type DataType,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimestampMillisecond,
  Uint8,
  Uint16,
  Uint32,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';

/**
 * Column types the generator can make: the numeric types by their short names, `i64` (Int64 ids beyond
 * 2^32), `ts-ms` (Timestamp in milliseconds, rising from 2026-01-01), `bool` (30% true), `utf8` (Utf8) and
 * `dict-utf8` (Dictionary<Int32, Utf8>, one dictionary for the whole file, skewed towards its first values).
 */
export type ColumnKind =
  | 'f32'
  | 'f64'
  | 'i32'
  | 'u32'
  | 'i16'
  | 'u16'
  | 'i8'
  | 'u8'
  | 'i64'
  | 'ts-ms'
  | 'bool'
  | 'utf8'
  | 'dict-utf8';

/** A deterministic synthetic data set. */
export interface DatasetSpec {
  rows: number;
  batchRows: number;
  format: 'stream' | 'file';
  columns: Record<string, ColumnKind>;
  /** Fraction of null rows in columns named here (0..1). */
  nulls?: Record<string, number>;
  /**
   * Distinct values of the `utf8` and `dict-utf8` columns named here: word-like labels ("Kobarin Tesuma").
   * Without it a `utf8` column holds `s0`…`s999` and a `dict-utf8` column 32 labels.
   */
  distinct?: Record<string, number>;
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
    i64: 8,
    'ts-ms': 8,
    bool: 1 / 8,
    utf8: 8,
    'dict-utf8': 4,
  };
  return Object.values(columns).reduce((n, kind) => n + size[kind], 0);
}

/** The Arrow type of `kind`; a dictionary takes `id` (the column's index, so that every schema of a spec is equal). */
function arrowType(kind: ColumnKind, id = 0): DataType {
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
    case 'i64':
      return new Int64();
    case 'ts-ms':
      return new TimestampMillisecond();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Utf8();
    case 'dict-utf8':
      return new Dictionary(new Utf8(), new Int32(), id);
  }
}

/** A small, fast, seedable PRNG (mulberry32). */
export function random(seed: number): () => number {
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
    case 'i64':
      // Ids from 10^12 up in steps of 13: every value has a non-zero high word.
      return int64s(n, (i) => 1e12 + (row0 + i) * 13);
    case 'ts-ms':
      // One row every 50 ms on average from 2026-01-01T00:00:00Z, never decreasing.
      return int64s(n, (i) => 1_767_225_600_000 + (row0 + i) * 50 + Math.floor(next() * 50));
    case 'bool': {
      const bits = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++) if (next() < 0.3) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
      return bits;
    }
    case 'utf8':
    case 'dict-utf8':
      throw new Error(`${kind} is made by textData`);
  }
}

/** Int64 values from non-negative integers below 2^53, written as little-endian lo/hi words. */
function int64s(n: number, value: (i: number) => number): BigInt64Array {
  const out = new BigInt64Array(n);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = value(i);
    words[2 * i] = v % 4294967296;
    words[2 * i + 1] = Math.floor(v / 4294967296);
  }
  return out;
}

const SYLLABLES = 'ba ko ri te mu sa li no ve da ke pi ro zu ma ne ti go la fe'.split(' ');
const syllable = (k: number) => SYLLABLES[k % SYLLABLES.length] as string;
const capital = (s: string) => (s[0] as string).toUpperCase() + s.slice(1);

/** Label `k`: two capitalised words of two-letter syllables, distinct for every `k` below 20^4. */
export function label(k: number): string {
  const spread = (k * 7919) % 160_000; // a bijection below 20^4 that scatters neighbouring k
  const d = [spread, spread / 20, spread / 400, spread / 8000].map((x) => Math.floor(x) % 20);
  const [a, b, c, e] = d as [number, number, number, number];
  return `${capital(syllable(a) + syllable(b) + syllable(a + c) + (spread % 3 === 0 ? 'n' : ''))} ${capital(
    syllable(c) + syllable(e) + syllable(b + e + 1),
  )}`;
}

/** The values of a text column: `s0`…`s999`, or `distinct` labels. */
function textValues(distinct: number | undefined): { strings: string[]; bytes: Uint8Array[] } {
  const strings = Array.from({ length: distinct ?? 1000 }, (_, k) => (distinct ? label(k) : `s${k}`));
  const encoder = new TextEncoder();
  return { strings, bytes: strings.map((s) => encoder.encode(s)) };
}

/** A Utf8 column of `n` rows drawing value `pick()` from `table`; null rows (bit clear in `bitmap`) are empty. */
function utf8Of(table: Uint8Array[], n: number, pick: () => number, bitmap?: Uint8Array, nulls = 0) {
  const chosen = new Int32Array(n);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const valid = !bitmap || ((bitmap[i >> 3] as number) >> (i & 7)) & 1;
    chosen[i] = valid ? pick() : -1;
    offsets[i + 1] = (offsets[i] as number) + (valid ? (table[chosen[i] as number] as Uint8Array).length : 0);
  }
  const data = new Uint8Array(offsets[n] as number);
  for (let i = 0; i < n; i++) {
    const k = chosen[i] as number;
    if (k >= 0) data.set(table[k] as Uint8Array, offsets[i] as number);
  }
  return makeData({
    type: new Utf8(),
    length: n,
    valueOffsets: offsets,
    data,
    ...(bitmap ? { nullBitmap: bitmap, nullCount: nulls } : {}),
  });
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
      ([name, kind], i) => new Field(name, arrowType(kind, i), (spec.nulls?.[name] ?? 0) > 0),
    ),
  );
}

/** The spec's record batches, made one at a time. */
export function* batchesOf(spec: DatasetSpec): Generator<RecordBatch> {
  const schema = schemaOf(spec);
  const next = random(spec.seed ?? 42);
  // Text values are made once: a dictionary column's one dictionary is shared by every batch.
  const text = new Map(
    Object.entries(spec.columns)
      .filter(([, kind]) => kind === 'utf8' || kind === 'dict-utf8')
      .map(([name, kind]) => {
        const values = textValues(spec.distinct?.[name] ?? (kind === 'dict-utf8' ? 32 : undefined));
        return [
          name,
          {
            ...values,
            dictionary: kind === 'dict-utf8' ? vectorFromArray(values.strings, new Utf8()) : null,
          },
        ];
      }),
  );
  for (let row0 = 0; row0 < spec.rows; row0 += spec.batchRows) {
    const n = Math.min(spec.batchRows, spec.rows - row0);
    const children = schema.fields.map((field) => {
      const { name } = field;
      const kind = spec.columns[name] as ColumnKind;
      const fraction = spec.nulls?.[name] ?? 0;
      const textColumn = text.get(name);
      if (kind === 'dict-utf8' && textColumn?.dictionary) {
        const count = textColumn.strings.length;
        // Skewed: the first values are the most frequent, as categories are.
        const indices = Int32Array.from({ length: n }, () => Math.floor(next() ** 2 * count));
        const nullable = fraction > 0 ? validity(n, fraction, next) : null;
        if (nullable)
          for (let i = 0; i < n; i++)
            if (!(((nullable.bitmap[i >> 3] as number) >> (i & 7)) & 1)) indices[i] = 0;
        return makeData({
          type: field.type,
          length: n,
          data: indices,
          dictionary: textColumn.dictionary,
          ...(nullable ? { nullBitmap: nullable.bitmap, nullCount: nullable.nulls } : {}),
        } as never);
      }
      if (kind === 'utf8' && (fraction > 0 || spec.distinct?.[name] !== undefined)) {
        const table = (textColumn as { bytes: Uint8Array[] }).bytes;
        const nullable = fraction > 0 ? validity(n, fraction, next) : null;
        return utf8Of(table, n, () => Math.floor(next() * table.length), nullable?.bitmap, nullable?.nulls);
      }
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
export function writeDataset(path: string, spec: DatasetSpec): Promise<void> {
  return writeBatches(path, schemaOf(spec), batchesOf(spec), spec.format);
}

/** Writes `batches` to `path` as an IPC stream or file, one batch at a time, atomically. */
export async function writeBatches(
  path: string,
  schema: Schema,
  batches: Iterable<RecordBatch>,
  format: 'stream' | 'file',
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  const writer =
    format === 'file'
      ? new RecordBatchFileWriter({ autoDestroy: true })
      : new RecordBatchStreamWriter({ autoDestroy: true });
  writer.reset(undefined, schema);
  // Drain the writer as it goes (async iteration works with every apache-arrow build, DOM or Node).
  const drained = (async () => {
    for await (const chunk of writer) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  })();
  for (const batch of batches) {
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
