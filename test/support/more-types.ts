import {
  Bool,
  type DataType,
  Decimal,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  IntervalMonthDayNano,
  RecordBatch,
  Table,
  Uint32,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { batchOf, fixedVector } from './every-type.js';
import { xorshift } from './mutate.js';

/**
 * The shapes `everyTypeTable` lacks, with about one null in seven, over batches of odd sizes: 4-word
 * intervals, 256-bit decimals, vectors of 64-bit and of more than four elements, Bool elements, 20-byte
 * binaries. Load it with `encodings: 'exact'` for f64 and i64 vector elements. Deterministic.
 */
export function moreTypesTable(batchRows: readonly number[] = [70, 90, 70]): Table {
  const random = xorshift(2026);
  const batches = batchRows.map((rows) => moreTypesBatch(rows, random));
  const first = batches[0] as RecordBatch;
  return new Table(batches.map((batch) => new RecordBatch(first.schema, batch.data)));
}

function moreTypesBatch(rows: number, random: () => number): RecordBatch {
  const values = <T>(make: () => T) => Array.from({ length: rows }, () => (random() < 1 / 7 ? null : make()));
  const list = <T>(size: number, type: DataType, make: () => T) =>
    vectorFromArray(
      values(() => Array.from({ length: size }, make)),
      new FixedSizeList(size, new Field('v', type, false)),
    );
  const words = (n: number) => new Uint32Array(rows * n).map(() => Math.floor(random() * 2 ** 32));
  const children: Record<string, Vector> = {
    count: vectorFromArray(
      values(() => Math.floor(random() * 2 ** 32)),
      new Uint32(),
    ),
    period: fixedVector(new IntervalMonthDayNano(), rows, words(4), random),
    wide: fixedVector(new Decimal(3, 60, 256), rows, words(8), random),
    hash: fixedVector(
      new FixedSizeBinary(20),
      rows,
      new Uint8Array(rows * 20).map(() => random() * 256),
      random,
    ),
    ids: list(2, new Int64(), () => BigInt(Math.floor((random() - 0.5) * 2 ** 53)) * 999n),
    path: list(3, new Float64(), () => (random() - 0.5) * 1e9),
    quad: list(4, new Int32(), () => Math.floor((random() - 0.5) * 2 ** 32)),
    five: list(5, new Float32(), () => Math.fround(random() * 100)),
    bits: list(3, new Bool(), () => random() < 0.5),
  };
  return batchOf(rows, children);
}
