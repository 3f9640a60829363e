import {
  Binary,
  BinaryView,
  type DataType,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  DurationNanosecond,
  Float16,
  Int8,
  Int16,
  Int32,
  IntervalYearMonth,
  LargeBinary,
  LargeUtf8,
  makeData,
  makeVector,
  RecordBatch,
  Table,
  TimeMicrosecond,
  TimeMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint16,
  Utf8,
  Utf8View,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { batchOf, fixedVector } from './every-type.js';
import { xorshift } from './mutate.js';

/**
 * The types neither `everyTypeTable` nor `moreTypesTable` has, with about one null in seven, over
 * batches of odd sizes: Float16, dates, times, timestamps with a zone, durations, year-month intervals,
 * 16-bit integers, 32- and 64-bit decimals, large and view strings and binaries, and a Dictionary with
 * Int8 indices and Int16 values. 64-bit values are random bits. Deterministic.
 */
export function rowTypesTable(batchRows: readonly number[] = [45, 70, 33]): Table {
  const random = xorshift(99);
  const batches = batchRows.map((rows) => rowTypesBatch(rows, random));
  const first = batches[0] as RecordBatch;
  return new Table(batches.map((batch) => new RecordBatch(first.schema, batch.data)));
}

function rowTypesBatch(rows: number, random: () => number): RecordBatch {
  const values = <T>(make: () => T) => Array.from({ length: rows }, () => (random() < 1 / 7 ? null : make()));
  const words = (n: number) => new Uint32Array(rows * n).map(() => Math.floor(random() * 2 ** 32));
  const fixed = (type: DataType, n: number) => fixedVector(type, rows, words(n), random);
  const text = () => `v${Math.floor(random() * 30)}${'…long tail'.repeat(Math.floor(random() * 3))}`;
  const bytes = () => new Uint8Array(Math.floor(random() * 20)).map(() => random() * 256);
  const children: Record<string, Vector> = {
    half: vectorFromArray(
      values(() => (random() - 0.5) * 1000),
      new Float16(),
    ),
    day: fixed(new DateDay(), 1),
    date64: fixed(new DateMillisecond(), 2),
    time32: fixed(new TimeMillisecond(), 1),
    time64: fixed(new TimeMicrosecond(), 2),
    tz: fixed(new TimestampNanosecond('Europe/Oslo'), 2),
    secs: fixed(new TimestampSecond(), 2),
    took: fixed(new DurationNanosecond(), 2),
    months: fixed(new IntervalYearMonth(), 1),
    i16: vectorFromArray(
      values(() => Math.floor(random() * 65536) - 32768),
      new Int16(),
    ),
    u16: vectorFromArray(
      values(() => Math.floor(random() * 65536)),
      new Uint16(),
    ),
    d32: fixed(new Decimal(2, 9, 32), 1),
    d64: fixed(new Decimal(4, 18, 64), 2),
    large: vectorFromArray(values(text), new LargeUtf8()),
    view: vectorFromArray(values(text), new Utf8View()),
    blob: vectorFromArray(values(bytes), new Binary()),
    bigBlob: vectorFromArray(values(bytes), new LargeBinary()),
    blobView: vectorFromArray(values(bytes), new BinaryView()),
    small: smallDictionary(rows, random),
  };
  return batchOf(rows, children);
}

/** Dictionary<Int16, Int8> (ordered, id 3): numbers as dictionary values, 8-bit codes. */
function smallDictionary(rows: number, random: () => number): Vector {
  const dictionary = vectorFromArray([7, -3, 1200, 0, 42], new Int16());
  const codes = new Int8Array(rows).map(() => Math.floor(random() * dictionary.length));
  const nulls = fixedVector(new Int8(), rows, new Uint8Array(codes.buffer), random).data[0] as {
    nullBitmap: Uint8Array;
    nullCount: number;
  };
  const type = new Dictionary(new Int16(), new Int8(), 3, true);
  return makeVector(
    makeData({
      type,
      length: rows,
      nullCount: nulls.nullCount,
      nullBitmap: nulls.nullBitmap,
      data: codes,
      dictionary,
    }),
  );
}

/** Two Dictionary<Utf8, Int32> columns that share dictionary id 5 (and its values). */
export function sharedDictionaryTable(rows = 90): Table {
  const random = xorshift(5);
  const dictionary = vectorFromArray(['north', 'south', 'east', 'west'], new Utf8());
  const type = new Dictionary(new Utf8(), new Int32(), 5);
  const column = (from: number) =>
    makeVector(
      makeData({
        type,
        length: rows,
        nullCount: 0,
        data: new Int32Array(rows).map((_, i) => (i < from ? 0 : Math.floor(random() * 4))),
        dictionary,
      }),
    );
  return new Table([batchOf(rows, { a: column(rows / 2), b: column(0) })]);
}

/**
 * A stream whose Dictionary<Utf8, Int8> column (id 0) gets a new dictionary of 100 values each batch:
 * 300 distinct values in all, more than 8-bit signed indices count.
 */
export function replacedDictionaryTable(): Table {
  const type = new Dictionary(new Utf8(), new Int8(), 0);
  const batches = [0, 1, 2].map((b) => {
    const dictionary = vectorFromArray(
      Array.from({ length: 100 }, (_, i) => `b${b}-${i}`),
      new Utf8(),
    );
    const codes = Int8Array.from({ length: 100 }, (_, i) => 99 - i);
    return batchOf(100, {
      word: makeVector(makeData({ type, length: 100, nullCount: 0, data: codes, dictionary })),
    });
  });
  const first = batches[0] as RecordBatch;
  return new Table(batches.map((batch) => new RecordBatch(first.schema, batch.data)));
}
