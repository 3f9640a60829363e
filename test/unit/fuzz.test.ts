import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RecordBatch, tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { planColumns } from '../../src/core/columns/type-plan.js';
import { ArrowGpuError, type ErrorCode } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { registerCompressionCodecs } from '../../src/core/ipc/compression/codecs.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { type LoadedTable, runPipeline } from '../../src/core/pipeline/load.js';
import { chunked, encodeDataset, tailOf, whole } from '../support/byte-sources.js';
import { type DeviceProbe, withContext } from '../support/dawn.js';
import { columnDifferences, destroyColumns, expectedColumns, readColumns } from '../support/gpu-columns.js';
import { mutate, xorshift } from '../support/mutate.js';

// Mutated and random bytes through the real pipeline (runPipeline: read-ahead, framer, decode, batch
// check, TableUploader, both transports) on Dawn. Every case loads, with exactly the values the decoded
// bytes hold, or rejects with a code that names bad input; nothing is left on the GPU either way.

const ARROW_TESTING = join(import.meta.dirname, '../data/arrow-testing');
const URL = 'fuzz://case';

/** What bad bytes may be rejected with; anything else (INTERNAL, a raw error, a GPU error) is a bug. */
const INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_ARROW',
  'TRUNCATED',
  'CORRUPT',
  'UNSUPPORTED_TYPE',
  // A mutated field name: the projection asks for a column the schema no longer has.
  'NO_SUCH_COLUMN',
  'SCHEMA_MISMATCH',
  'LIMIT_EXCEEDED',
]);

/** One case may take this long at most; a hang aborts the load and fails the case, not the whole run. */
const CASE_MS = 5_000;

type Outcome = 'OK' | ErrorCode | `BUG ${string}`;

/** Decodes `bytes` whole with the library's decoder, for the values a load of them must have put on the GPU. */
async function decodeWhole(bytes: Uint8Array): Promise<RecordBatch[]> {
  const framer = new IpcFramer(whole(bytes), URL, undefined, tailOf(bytes));
  const stream = await openBatchStream(framer, URL);
  const batches: RecordBatch[] = [];
  for await (const decoded of stream.batches) batches.push(decoded.batch);
  return batches;
}

/** A loaded table's GPU bytes against the decoded bytes, row by row (reads out of bounds fail here). */
async function verify(
  context: GpuContext,
  bytes: Uint8Array,
  columns: readonly string[],
  table: LoadedTable,
): Promise<Outcome> {
  const batches = await decodeWhole(bytes).catch((e: unknown) => e as Error);
  if (batches instanceof Error) return `BUG loaded in chunks, but not whole: ${batches.message}`;
  const expected = expectedColumns(batches, columns);
  const actual = await readColumns(context.device, context.tracker, table.numRows, table.columns);
  const differences = columnDifferences(actual, expected, false);
  return differences.length === 0 ? 'OK' : `BUG wrong bytes on the GPU: ${differences.join('; ')}`;
}

function classify(error: unknown, timedOut: boolean): Outcome {
  if (error instanceof ArrowGpuError) {
    // Only the case's timer aborts; a load that failed first keeps its own error (first error wins).
    if (error.code === 'ABORTED' && timedOut) return `BUG hang over ${CASE_MS} ms`;
    return INPUT_CODES.has(error.code) ? error.code : `BUG unexpected code ${error.code}: ${error.message}`;
  }
  const e = error as Error;
  return `BUG raw ${e?.name}: ${e?.message ?? String(error)}`;
}

/**
 * Loads `bytes` through the pipeline, delivered in `chunkSizes`, with the strategy the seed picks; checks
 * what loaded, and that the load left no buffer behind.
 */
async function runCase(
  context: GpuContext,
  probe: DeviceProbe,
  bytes: Uint8Array,
  columns: readonly string[],
  seed: number,
): Promise<Outcome> {
  const buffersBefore = [context.tracker.count, probe.live().length];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), CASE_MS);
  let outcome: Outcome;
  try {
    const table = await runPipeline({
      gpu: context,
      source: chunked(bytes, chunkSizesFor(seed)),
      readTail: tailOf(bytes),
      url: URL,
      bytesTotal: bytes.byteLength,
      columns,
      upload: seed % 2 === 0 ? 'staging' : 'writeBuffer',
      signal: controller.signal,
    });
    outcome = await verify(context, bytes, columns, table).finally(() =>
      destroyColumns(context.tracker, table.columns),
    );
  } catch (error) {
    outcome = classify(error, controller.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
  const buffersAfter = [context.tracker.count, probe.live().length];
  if (buffersAfter.some((n, i) => n !== buffersBefore[i])) {
    return `BUG buffers (tracked, on the device) ${buffersBefore} before, ${buffersAfter} after (${outcome})`;
  }
  return outcome;
}

interface Base {
  name: string;
  bytes: Uint8Array;
  /** The projection every case of this base loads: its columns that have a GPU encoding. */
  columns: string[];
}

function base(name: string, bytes: Uint8Array): Base {
  registerCompressionCodecs();
  // The fuzz checks robustness; values are compared for the 32-bit encodings (every encoding is
  // compared with its source in encoders.test.ts and e2e/encodings.spec.ts).
  const { plans } = planColumns(tableFromIPC(bytes).schema, { unsupported: 'skip' }, name);
  const columns = plans
    .filter((p) => /^(U?Int(8|16|32)|Float(16|32|64))$/.test(p.arrowType))
    .map((p) => p.name);
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
  for (const o of outcomes) {
    const key = o.startsWith('BUG') ? 'BUG' : o;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Makes every staging slot exist before the first case counts buffers (slots are kept between loads). */
async function warmUp(context: GpuContext): Promise<void> {
  const slots = [];
  for (let i = 0; i < context.ring.size; i++) slots.push(await context.ring.acquire(1));
  for (const slot of slots) context.ring.release(slot);
}

describe('fuzz: mutated and random bytes through runPipeline on Dawn', () => {
  it(`every one of ${BASES.length * SEEDS_PER_BASE} mutated files loads exactly what it holds, or rejects with an input error code, within ${CASE_MS} ms, leaving no buffer`, async () => {
    await withContext(async (context, probe) => {
      await warmUp(context);
      const bugs: string[] = [];
      const outcomes: Outcome[] = [];
      for (const b of BASES) {
        expect(await runCase(context, probe, b.bytes, b.columns, 0), `${b.name} unmutated`).toBe('OK');
        for (let seed = 1; seed <= SEEDS_PER_BASE; seed++) {
          const outcome = await runCase(context, probe, mutate(b.bytes, seed), b.columns, seed);
          outcomes.push(outcome);
          if (outcome.startsWith('BUG')) bugs.push(`${b.name} seed ${seed}: ${outcome}`);
        }
      }
      expect(bugs).toEqual([]);
      const counts = tally(outcomes);
      // The mutations must reach deep enough to exercise both paths, and several kinds of fault.
      expect(counts.OK ?? 0).toBeGreaterThan(0);
      expect(Object.keys(counts).length).toBeGreaterThanOrEqual(4);
    });
  }, 240_000);

  it(`${RANDOM_CASES} random byte strings never load, and ${RANDOM_CASES} valid prefixes followed by noise load or reject with an input error code`, async () => {
    await withContext(async (context, probe) => {
      await warmUp(context);
      const bugs: string[] = [];
      const valid = BASES[0] as Base;
      for (let seed = 1; seed <= RANDOM_CASES; seed++) {
        const next = xorshift(seed);
        const noise = Uint8Array.from({ length: 8 + Math.floor(next() * 8192) }, () =>
          Math.floor(next() * 256),
        );
        // Half the cases start like a stream (continuation marker, then a plausible length) to get past the preamble.
        if (seed % 2 === 0) noise.set([0xff, 0xff, 0xff, 0xff, Math.floor(next() * 256), 0, 0, 0]);
        const random = await runCase(context, probe, noise, valid.columns, seed);
        if (random === 'OK' || random.startsWith('BUG')) bugs.push(`random seed ${seed}: ${random}`);
        // A valid schema and first batches, then noise where the next message should be.
        const prefixed = valid.bytes.slice(0, valid.bytes.byteLength >> 1);
        prefixed.set(noise.subarray(0, prefixed.byteLength >> 1), prefixed.byteLength >> 1);
        const tail = await runCase(context, probe, prefixed, valid.columns, seed);
        if (tail.startsWith('BUG')) bugs.push(`valid prefix + noise, seed ${seed}: ${tail}`);
      }
      expect(bugs).toEqual([]);
    });
  }, 120_000);
});
