import {
  Bool,
  type DataType,
  Decimal,
  Dictionary,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  IntervalDayTime,
  List,
  makeData,
  makeVector,
  Null,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Uint8,
  Uint64,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';

/**
 * A table with a column for every row of the encoding table, nulls in each, over batches of odd sizes
 * (so that bit-packed words straddle batches), and a dictionary column whose dictionary changes between
 * batches. Deterministic: the same bytes every run.
 */
export function everyTypeTable(
  format: 'stream' | 'file',
  batchRows: readonly number[] = [37, 64, 101, 5],
): Table {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  // The stream replaces its dictionary every batch; the file format allows no replacement.
  const shared = vectorFromArray(['red', 'green', 'blue', 'violet'], new Utf8());
  const dictionary = (b: number) =>
    format === 'file' ? shared : vectorFromArray(['red', 'green', 'blue', `b${b}`], new Utf8());
  const first = everyTypeBatch(batchRows[0] ?? 0, dictionary(0), random);
  const rest = batchRows.slice(1).map((rows, b) => everyTypeBatch(rows, dictionary(b + 1), random));
  // One schema for every batch (apache-arrow compares them), the first batch's.
  return new Table([first, ...rest.map((batch) => new RecordBatch(first.schema, batch.data))]);
}

/** The dictionary type, one id for every batch. */
const CATEGORY = new Dictionary(new Utf8(), new Int32(), 0);

/** Rows of a value list with about one null in seven. */
function values<T>(rows: number, random: () => number, make: (i: number) => T): Array<T | null> {
  return Array.from({ length: rows }, (_, i) => (random() < 1 / 7 ? null : make(i)));
}

function everyTypeBatch(rows: number, dictionary: Vector, random: () => number): RecordBatch {
  const col = <T>(type: DataType, make: (i: number) => T): Vector =>
    vectorFromArray(values(rows, random, make), type);
  const words = new Uint32Array(rows * 4);
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(random() * 2 ** 32);
  const bytes = new Uint8Array(rows * 6).map(() => Math.floor(random() * 256));
  const children: Record<string, Vector> = {
    i8: col(new Int8(), () => Math.floor(random() * 256) - 128),
    i16: col(new Int16(), () => Math.floor(random() * 65536) - 32768),
    i32: col(new Int32(), () => Math.floor(random() * 2 ** 32) - 2 ** 31),
    u8: col(new Uint8(), () => Math.floor(random() * 256)),
    f32: col(new Float32(), () => Math.fround((random() - 0.5) * 1e6)),
    f64: col(new Float64(), () => (random() - 0.5) * 1e12),
    i64: col(new Int64(), () => BigInt(Math.floor(random() * 2 ** 53)) * 1024n - 2n ** 62n),
    u64: col(new Uint64(), () => BigInt(Math.floor(random() * 2 ** 53)) * 2048n),
    ts: col(new TimestampMillisecond(), () => 1767225600000 + Math.floor(random() * 86_400_000)),
    flag: col(new Bool(), () => random() < 0.5),
    name: col(new Utf8(), () => `name-${Math.floor(random() * 40)}`),
    category: dictionaryVector(rows, dictionary, random),
    price: fixedVector(new Decimal(2, 12, 128), rows, words, random),
    digest: fixedVector(new FixedSizeBinary(6), rows, bytes, random),
    xy: col(new FixedSizeList(2, new Field('v', new Float32())), () => [
      Math.fround(random()),
      Math.fround(random()),
    ]),
    span: fixedVector(new IntervalDayTime(), rows, words.subarray(0, rows * 2), random),
    nothing: vectorFromArray(new Array(rows).fill(null), new Null()),
    point: vectorFromArray(
      values(rows, random, () => ({ lat: (random() - 0.5) * 180, n: Math.floor(random() * 1000) })),
      new Struct([new Field('lat', new Float64(), true), new Field('n', new Int32(), true)]),
    ),
  };
  return batchOf(rows, children);
}

/** A record batch of `rows` rows holding `children` (one nullable field each, in order). */
export function batchOf(rows: number, children: Record<string, Vector>): RecordBatch {
  const schema = new Schema(Object.entries(children).map(([name, v]) => new Field(name, v.type, true)));
  const data = makeData({
    type: new Struct(schema.fields),
    length: rows,
    nullCount: 0,
    children: Object.values(children).map((v) => v.data[0]),
  } as never);
  return new RecordBatch(schema, data as never);
}

/** Codes into `dictionary`, with about one null in seven. */
function dictionaryVector(rows: number, dictionary: Vector, random: () => number): Vector {
  const codes = new Int32Array(rows).map(() => Math.floor(random() * dictionary.length));
  const vector = fixedVector(new Int32(), rows, codes as unknown as Uint32Array, random);
  const { nullBitmap, nullCount } = vector.data[0] as { nullBitmap: Uint8Array; nullCount: number };
  return makeVector(
    makeData({ type: CATEGORY, length: rows, nullCount, nullBitmap, data: codes, dictionary }),
  );
}

/** A fixed-width vector over `data`, with about one null in seven. */
export function fixedVector(
  type: DataType,
  rows: number,
  data: Uint8Array | Uint32Array,
  random: () => number,
): Vector {
  const bitmap = new Uint8Array(Math.ceil(rows / 8));
  let nullCount = 0;
  for (let i = 0; i < rows; i++) {
    if (random() < 1 / 7) nullCount++;
    else bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  }
  return makeVector(makeData({ type, length: rows, nullCount, nullBitmap: bitmap, data } as never));
}

/** A List column (no GPU encoding) between two numeric ones: loadable with a projection or `unsupported: 'skip'`. */
export function withListTable(): Table {
  const rows = 300;
  return new Table({
    a: vectorFromArray(Int32Array.from({ length: rows }, (_, i) => i * 3)),
    l: vectorFromArray(
      Array.from({ length: rows }, (_, i) => [i, i + 1]),
      new List(new Field('item', new Int32(), true)),
    ),
    b: vectorFromArray(Float64Array.from({ length: rows }, (_, i) => i / 7)),
  });
}
