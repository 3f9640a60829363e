import {
  Bool,
  type Data,
  type DataType,
  Decimal,
  Dictionary,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  IntervalMonthDayNano,
  makeData,
  makeVector,
  Null,
  RecordBatch,
  Struct,
  Table,
  TimestampMillisecond,
  Uint8,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { batchOf, fixedVector } from './every-type.js';
import { xorshift } from './mutate.js';
import { expandRuns, type RunEndType, randomRunEnds, runEndVector } from './run-end-ipc.js';

/** A table of RunEndEncoded columns and the same rows as plain columns. */
export interface RunEndTables {
  /** RunEndEncoded columns as apache-arrow writes them (structs): write them with `runEndIpc(ree, paths, …)`. */
  ree: Table;
  /** The same columns expanded to one value a row, each of its values' type. */
  plain: Table;
  /** Where the RunEndEncoded columns are. */
  paths: readonly string[];
}

/** The columns' values: their types and run end types; `point.r` is a struct's run-end encoded child. */
const COLUMNS: ReadonlyArray<[string, RunEndType, DataType]> = [
  ['f64', new Int32(), new Float64()],
  ['i32', new Int16(), new Int32()],
  ['u8', new Int64(), new Uint8()],
  ['ts', new Int64(), new TimestampMillisecond()],
  ['flag', new Int32(), new Bool()],
  ['price', new Int32(), new Decimal(2, 12, 128)],
  ['span', new Int16(), new IntervalMonthDayNano()],
  ['digest', new Int32(), new FixedSizeBinary(6)],
  ['xy', new Int32(), new FixedSizeList(2, new Field('v', new Float32(), false))],
  ['name', new Int32(), new Utf8()],
  ['category', new Int32(), new Dictionary(new Utf8(), new Int32(), 7)],
  ['nothing', new Int32(), new Null()],
];

/** The RunEndEncoded columns of `runEndTables`. */
export const RUN_END_PATHS: readonly string[] = [...COLUMNS.map(([name]) => name), 'point.r'];

/**
 * RunEndEncoded columns of every kind of value the library expands (run ends of 16, 32 and 64 bits,
 * values with about one null in five, runs of 1 to 6 rows), a struct with nulls holding one, and a plain
 * column; over batches of odd sizes (bit-packed words straddle batches). In the batch of 64 rows the
 * runs go on past the array's end, as in an array sliced from a longer one. Deterministic.
 */
export function runEndTables(batchRows: readonly number[] = [37, 64, 1, 101, 5]): RunEndTables {
  const random = xorshift(4181);
  const dictionary = vectorFromArray(['red', 'green', 'blue', 'violet'], new Utf8());
  const pairs = batchRows.map((rows) => runEndBatch(rows, rows === 64 ? 9 : 0, dictionary, random));
  const first = pairs[0] as { ree: RecordBatch; plain: RecordBatch };
  const tableOf = (which: 'ree' | 'plain') => {
    const schema = first[which].schema;
    return new Table(pairs.map((pair) => new RecordBatch(schema, pair[which].data)));
  };
  return { ree: tableOf('ree'), plain: tableOf('plain'), paths: RUN_END_PATHS };
}

function runEndBatch(
  rows: number,
  overhang: number,
  dictionary: Vector,
  random: () => number,
): { ree: RecordBatch; plain: RecordBatch } {
  const ree: Record<string, Vector> = {};
  const plain: Record<string, Vector> = {};
  const add = (name: string, endType: RunEndType, type: DataType) => {
    const ends = randomRunEnds(rows + overhang, 6, random);
    const column = runEndVector(endType, ends, valuesOf(type, ends.length, dictionary, random), rows);
    ree[name] = column;
    plain[name] = expandRuns(column);
  };
  for (const [name, endType, type] of COLUMNS) add(name, endType, type);
  const lat = vectorFromArray(
    Array.from({ length: rows }, () => (random() - 0.5) * 180),
    new Float64(),
  );
  add('r', new Int32(), new Int32());
  const structNulls = fixedVector(new Int32(), rows, new Uint32Array(rows), random).data[0] as Data;
  const point = (r: Vector) =>
    makeVector(
      makeData({
        type: new Struct([new Field('lat', lat.type, true), new Field('r', r.type, true)]),
        length: rows,
        nullCount: structNulls.nullCount,
        nullBitmap: structNulls.nullBitmap,
        children: [lat.data[0], r.data[0]],
      } as never),
    );
  for (const columns of [ree, plain]) {
    columns.point = point(columns.r as Vector);
    delete columns.r;
    columns.id = vectorFromArray(Int32Array.from({ length: rows }, (_, i) => i * 7 - 100));
  }
  return { ree: batchOf(rows, ree), plain: batchOf(rows, plain) };
}

/** `runs` values of `type`, about one in five null. */
function valuesOf(type: DataType, runs: number, dictionary: Vector, random: () => number): Vector {
  const maybe = <T>(make: () => T) => Array.from({ length: runs }, () => (random() < 0.2 ? null : make()));
  const words = (n: number) => new Uint32Array(runs * n).map(() => Math.floor(random() * 2 ** 32));
  if (type instanceof Decimal) return fixedVector(type, runs, words(4), random);
  if (type instanceof IntervalMonthDayNano) return fixedVector(type, runs, words(4), random);
  if (type instanceof FixedSizeBinary) {
    return fixedVector(
      type,
      runs,
      new Uint8Array(runs * 6).map(() => random() * 256),
      random,
    );
  }
  if (type instanceof Dictionary) {
    const codes = Int32Array.from({ length: runs }, () => Math.floor(random() * dictionary.length));
    const { nullBitmap, nullCount } = fixedVector(new Int32(), runs, codes as never, random).data[0] as Data;
    return makeVector(makeData({ type, length: runs, nullCount, nullBitmap, data: codes, dictionary }));
  }
  if (type instanceof Null) return vectorFromArray(new Array(runs).fill(null), type);
  const make: Record<string, () => unknown> = {
    Float64: () => (random() - 0.5) * 1e12,
    Int32: () => Math.floor(random() * 2 ** 32) - 2 ** 31,
    Uint8: () => Math.floor(random() * 256),
    'Timestamp<MILLISECOND>': () => 1767225600000 + Math.floor(random() * 86_400_000),
    Bool: () => random() < 0.5,
    Utf8: () => `name-${Math.floor(random() * 12)}`,
  };
  const value = make[String(type)];
  if (type instanceof FixedSizeList)
    return vectorFromArray(
      maybe(() => [random(), random()].map(Math.fround)),
      type,
    );
  if (!value) throw new Error(`no values for ${String(type)}`);
  return vectorFromArray(maybe(value), type);
}
