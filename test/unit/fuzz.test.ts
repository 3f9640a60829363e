import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Data, type RecordBatch, tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { checkBatch } from '../../src/core/columns/check-batch.js';
import { encodeValues, type SourceValues, sourceBytes } from '../../src/core/columns/encode-values.js';
import { type ColumnPlan, gpuEncodingOf, planColumns } from '../../src/core/columns/type-plan.js';
import { ValidityPacker } from '../../src/core/columns/validity-packer.js';
import { ArrowGpuError, type ErrorCode } from '../../src/core/errors.js';
import { registerCompressionCodecs } from '../../src/core/ipc/compression/codecs.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { chunked, encodeDataset } from '../support/byte-sources.js';
import { mutate, xorshift } from '../support/mutate.js';

const ARROW_TESTING = join(import.meta.dirname, '../data/arrow-testing');

/** What bad bytes may be rejected with on the decoding path; anything else is a bug. */
const DECODE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_ARROW',
  'TRUNCATED',
  'CORRUPT',
  'UNSUPPORTED_TYPE',
  'NO_SUCH_COLUMN',
  'SCHEMA_MISMATCH',
  'LIMIT_EXCEEDED',
]);

/** One case may take this long at most; a hang fails the case instead of the whole run. */
const CASE_MS = 5_000;

/** A read outside a decoded array, which JS would otherwise let pass silently (as `undefined` or zeros). */
class OutOfBoundsRead extends Error {}

/** Encodes one column chunk exactly as `TableUploader` does, checking first that every read is in bounds. */
function encodeLikeTheUploader(data: Data, plan: ColumnPlan, packer: ValidityPacker): void {
  const values = data.values as SourceValues;
  const start = data.offset;
  const count = data.length;
  if (start + count > values.length) {
    throw new OutOfBoundsRead(`${plan.name}: values [${start}, ${start + count}) of ${values.length}`);
  }
  const target = new ArrayBuffer(count * 4);
  if (plan.conversion === 'copy') new Uint8Array(target).set(sourceBytes(values, start, count));
  else encodeValues(plan.conversion, values, start, count, target, 0);
  if (data.nullCount > 0) {
    const bitmap = data.nullBitmap as Uint8Array;
    if (start + count > bitmap.byteLength * 8) {
      throw new OutOfBoundsRead(
        `${plan.name}: bits [${start}, ${start + count}) of ${bitmap.byteLength * 8}`,
      );
    }
    packer.append(bitmap, start, count, new Uint32Array(packer.wordsFor(count)));
  } else {
    packer.append(null, start, count, new Uint32Array(packer.wordsFor(count)));
  }
}

/**
 * Everything a load does but the GPU: frame, decode, plan, check each batch, then encode its values and
 * pack its validity. Resolves to the rows loaded.
 */
async function decodeAndEncode(
  bytes: Uint8Array,
  columns: readonly string[] | undefined,
  chunkSizes: readonly number[],
): Promise<number> {
  const url = 'fuzz://case';
  const readTail = async (n: number) => bytes.subarray(Math.max(0, bytes.byteLength - n));
  const framer = new IpcFramer(chunked(bytes, chunkSizes), url, undefined, readTail);
  const stream = await openBatchStream(framer, url);
  const plans = planColumns(stream.schema, columns, url);
  const packers = plans.map(() => new ValidityPacker());
  let rows = 0;
  for await (const decoded of stream.batches) {
    const batch: RecordBatch = decoded.batch;
    checkBatch(batch, plans, { url, batch: decoded.index, byteOffset: decoded.byteOffset });
    if (batch.numRows === 0) continue;
    plans.forEach((plan, i) => {
      const data = batch.getChildAt(plan.fieldIndex)?.data[0] as Data;
      encodeLikeTheUploader(data, plan, packers[i] as ValidityPacker);
    });
    rows += batch.numRows;
  }
  return rows;
}

type Outcome = 'OK' | ErrorCode | `BUG ${string}`;

/** Runs one case to its outcome: loaded, rejected with a code, or a bug (raw error, out-of-bounds read, hang). */
async function outcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve(`BUG hang over ${CASE_MS} ms`), CASE_MS);
  });
  const settled = run().then(
    (): Outcome => 'OK',
    (error: unknown): Outcome => {
      if (error instanceof ArrowGpuError) {
        return DECODE_CODES.has(error.code)
          ? error.code
          : `BUG unexpected code ${error.code}: ${error.message}`;
      }
      const e = error as Error;
      return `BUG raw ${e?.name}: ${e?.message ?? String(error)}`;
    },
  );
  try {
    return await Promise.race([settled, hang]);
  } finally {
    clearTimeout(timer);
  }
}

interface Base {
  name: string;
  bytes: Uint8Array;
  /** The projection every case of this base loads: its columns that have a GPU encoding. */
  columns: string[];
}

function base(name: string, bytes: Uint8Array): Base {
  registerCompressionCodecs();
  const columns = tableFromIPC(bytes)
    .schema.fields.filter((f) => gpuEncodingOf(f.type) !== null)
    .map((f) => f.name);
  return { name, bytes, columns };
}

function arrowTesting(path: string): Base {
  return base(path, new Uint8Array(readFileSync(join(ARROW_TESTING, path))));
}

const SPEC = {
  rows: 300,
  batchRows: 70,
  columns: { a: 'f32', b: 'f64', c: 'i8', d: 'u16', e: 'i32', s: 'utf8', u: 'u32', h: 'i16', k: 'u8' },
  nulls: { b: 0.2, c: 0.5, k: 0.1 },
} as const;

const BASES: Base[] = [
  base('generated.stream', encodeDataset({ ...SPEC, format: 'stream', columns: { ...SPEC.columns } })),
  base('generated.arrow', encodeDataset({ ...SPEC, format: 'file', columns: { ...SPEC.columns } })),
  arrowTesting('1.0.0-littleendian/generated_primitive.stream'),
  arrowTesting('1.0.0-littleendian/generated_dictionary.arrow_file'),
  arrowTesting('2.0.0-compression/generated_lz4.stream'),
  arrowTesting('2.0.0-compression/generated_zstd.arrow_file'),
];

const SEEDS_PER_BASE = 150;
const RANDOM_CASES = 60;

/** Chunk sizes of a case's delivery, so that faults also land on chunk boundaries. */
function chunkSizesFor(seed: number): number[] {
  const next = xorshift(seed * 7919);
  return seed % 3 === 0 ? [1 << 20] : [1 + Math.floor(next() * 4096), 1 + Math.floor(next() * 64), 8];
}

function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes)
    counts[o.startsWith('BUG') ? 'BUG' : o] = (counts[o.startsWith('BUG') ? 'BUG' : o] ?? 0) + 1;
  return counts;
}

describe('fuzz: mutated and random bytes on the decoding path (framer, decode, batch check, encoders)', () => {
  it(`every one of ${BASES.length * SEEDS_PER_BASE} mutated files loads or rejects with a decode error code, within ${CASE_MS} ms, and loads read only in-bounds values`, async () => {
    const bugs: string[] = [];
    const outcomes: Outcome[] = [];
    for (const b of BASES) {
      const rows = await decodeAndEncode(b.bytes, b.columns, [1 << 20]);
      expect(rows, `${b.name} unmutated`).toBeGreaterThan(0);
      for (let seed = 1; seed <= SEEDS_PER_BASE; seed++) {
        const bytes = mutate(b.bytes, seed);
        const outcome = await outcomeOf(() => decodeAndEncode(bytes, b.columns, chunkSizesFor(seed)));
        outcomes.push(outcome);
        if (outcome.startsWith('BUG')) bugs.push(`${b.name} seed ${seed}: ${outcome}`);
      }
    }
    expect(bugs).toEqual([]);
    const counts = tally(outcomes);
    // The mutations must reach deep enough to exercise both paths, and several kinds of fault.
    expect(counts.OK ?? 0).toBeGreaterThan(0);
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(4);
  }, 240_000);

  it(`${RANDOM_CASES} random byte strings never load, and ${RANDOM_CASES} valid prefixes followed by noise load or reject with a decode error code`, async () => {
    const bugs: string[] = [];
    const valid = BASES[0] as Base;
    for (let seed = 1; seed <= RANDOM_CASES; seed++) {
      const next = xorshift(seed);
      const noise = Uint8Array.from({ length: 8 + Math.floor(next() * 8192) }, () =>
        Math.floor(next() * 256),
      );
      // Half the cases start like a stream (continuation marker, then a plausible length) to get past the preamble.
      if (seed % 2 === 0) noise.set([0xff, 0xff, 0xff, 0xff, Math.floor(next() * 256), 0, 0, 0]);
      const random = await outcomeOf(() => decodeAndEncode(noise, valid.columns, chunkSizesFor(seed)));
      if (random === 'OK' || random.startsWith('BUG')) bugs.push(`random seed ${seed}: ${random}`);
      // A valid schema and first batches, then noise where the next message should be.
      const prefixed = valid.bytes.slice(0, valid.bytes.byteLength >> 1);
      prefixed.set(noise.subarray(0, prefixed.byteLength >> 1), prefixed.byteLength >> 1);
      const tail = await outcomeOf(() => decodeAndEncode(prefixed, valid.columns, chunkSizesFor(seed)));
      if (tail.startsWith('BUG')) bugs.push(`valid prefix + noise, seed ${seed}: ${tail}`);
    }
    expect(bugs).toEqual([]);
  }, 120_000);
});
