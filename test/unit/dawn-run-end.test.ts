import {
  CompressionType,
  Float64,
  Int32,
  RecordBatch,
  Table,
  tableToIPC,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { BufferRegion } from 'apache-arrow/ipc/metadata/message';
import { describe, expect, it } from 'vitest';
import type { EncodingRequest } from '../../src/core/columns/encoding.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { TypeTag } from '../../src/core/ipc/metadata/type.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import type { UploadStrategy } from '../../src/types.js';
import { whole } from '../support/byte-sources.js';
import { batchMessages } from '../support/compressed-ipc.js';
import { withContext } from '../support/dawn.js';
import { batchOf } from '../support/every-type.js';
import { mismatches } from '../support/expected-words.js';
import { readChunkBytes } from '../support/gpu-columns.js';
import { runEndIpc, runEndVector } from '../support/run-end-ipc.js';
import { runEndTables } from '../support/run-end-table.js';
import { retyped } from '../support/unreadable-ipc.js';

// RunEndEncoded columns through the whole pipeline on Dawn: each reads back from the GPU exactly as the
// plain column of its values' type holding the same rows (the words, the validity, the dictionary), and
// both equal the rows computed from the source values. Malformed runs fail the load as CORRUPT, naming
// the batch, the column and the message's byte offset, and leave nothing behind.

/** A column as read back: its plan's facts, its words and validity words, and its dictionary. */
interface Image {
  encoding: string;
  components: number;
  nullCount: number;
  words: Uint32Array;
  validity: Uint32Array | null;
  dictionary: unknown[] | null;
  offset: string | undefined;
}

interface LoadOptions {
  upload: UploadStrategy;
  encodings: EncodingRequest;
  chunkBytes?: number;
}

/** Loads `bytes`, reads every column back and destroys the table. */
async function loadImages(context: GpuContext, bytes: Uint8Array, options: LoadOptions) {
  const table = await runPipeline({
    gpu: context,
    // A copy: a big-endian body is turned little-endian in place.
    source: whole(bytes.slice()),
    readTail: async (n) => bytes.subarray(bytes.byteLength - n),
    url: 'test://ree',
    bytesTotal: bytes.byteLength,
    ...options,
  });
  const images = new Map<string, Image & { arrowType: string }>();
  for (const column of table.columns) {
    const words = await readChunkBytes(context.device, context.tracker, column.values);
    const validity = column.validity
      ? await readChunkBytes(context.device, context.tracker, column.validity)
      : null;
    const encoder = column.encoder as unknown as { values?: () => unknown[] } | null;
    images.set(column.plan.name, {
      arrowType: column.plan.arrowType,
      encoding: column.plan.encoding,
      components: column.plan.components,
      nullCount: column.nullCount,
      words: new Uint32Array(words.buffer, words.byteOffset, words.byteLength / 4),
      validity: validity
        ? new Uint32Array(validity.buffer, validity.byteOffset, validity.byteLength / 4)
        : null,
      dictionary: encoder?.values ? encoder.values() : null,
      offset: column.extras.offset,
    });
    for (const chunk of [...column.values, ...(column.validity ?? [])]) context.tracker.destroy(chunk.buffer);
  }
  return { numRows: table.numRows, images };
}

/** Expects every column of `got` to equal `want`'s, and `source`'s rows, word for word. */
function expectSameImages(
  got: Map<string, Image & { arrowType: string }>,
  want: Map<string, Image & { arrowType: string }>,
  source: Table,
) {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, image] of got) {
    const { arrowType: _, ...facts } = image;
    const { arrowType: __, ...wanted } = want.get(name) as Image & { arrowType: string };
    expect(facts, name).toEqual(wanted);
    const readBack = {
      name,
      encoding: image.encoding,
      components: image.components,
      words: [...image.words],
      validity: image.validity ? [...image.validity] : null,
      dictionary: image.dictionary,
    };
    const wrong = DERIVED[image.encoding]
      ? derivedMismatches(source, name, image)
      : mismatches(source, readBack);
    expect(wrong, name).toEqual([]);
  }
}

/** The f32 words encodings derived from each value (and the column's offset) must hold. */
const DERIVED: Record<string, (v: number, offset: number) => number[]> = {
  f32x2: (v) => [Math.fround(v), Math.fround(v - Math.fround(v))],
  'f32-relative': (v, offset) => [Math.fround(v - offset)],
};

/** Rows of an `f32x2` or `f32-relative` column that differ from the source's values. */
function derivedMismatches(source: Table, name: string, image: Image): string[] {
  const vector = source.getChild(name) as Vector;
  const words = new Float32Array(image.words.buffer, image.words.byteOffset, image.words.length);
  const derive = DERIVED[image.encoding] as (v: number, offset: number) => number[];
  const out: string[] = [];
  for (let i = 0; i < source.numRows && out.length < 5; i++) {
    if (!vector.isValid(i)) continue;
    const expected = derive(Number(vector.get(i)), Number(image.offset));
    const actual = [...words.subarray(i * image.components, (i + 1) * image.components)];
    if (actual.join() !== expected.join())
      out.push(`row ${i}: ${actual.join()}, expected ${expected.join()}`);
  }
  return out;
}

describe('RunEndEncoded columns on Dawn read back as the plain columns of their values', () => {
  const { ree, plain, paths } = runEndTables();
  const plainBytes = tableToIPC(plain, 'stream');
  const sources = {
    stream: runEndIpc(ree, paths, 'stream'),
    file: runEndIpc(ree, paths, 'file'),
    'file with its schema only in the footer': runEndIpc(ree, paths, 'footer-schema'),
    'stream, LZ4_FRAME bodies': runEndIpc(ree, paths, 'stream', { compression: CompressionType.LZ4_FRAME }),
    'stream, ZSTD bodies': runEndIpc(ree, paths, 'stream', { compression: CompressionType.ZSTD }),
    'big-endian stream': runEndIpc(ree, paths, 'stream', { bigEndian: true }),
    'big-endian stream, ZSTD bodies': runEndIpc(ree, paths, 'stream', {
      bigEndian: true,
      compression: CompressionType.ZSTD,
    }),
  };
  const loads: Record<string, LoadOptions> = {
    "staging, encodings 'auto'": { upload: 'staging', encodings: 'auto' },
    // 256-byte chunks: a chunk holds 32 rows of the widest column, so pieces start inside runs.
    "writeBuffer, encodings 'exact', 256-byte chunks": {
      upload: 'writeBuffer',
      encodings: 'exact',
      chunkBytes: 256,
    },
    'f32-relative and f32x2 asked': {
      upload: 'staging',
      encodings: { ts: 'f32-relative', f64: 'f32x2', i32: 'f32' },
    },
  };

  for (const [how, options] of Object.entries(loads)) {
    it(`${how}: every source format gives the plain columns' words`, async () => {
      await withContext(async (context) => {
        const want = await loadImages(context, plainBytes, options);
        expect(want.numRows).toBe(plain.numRows);
        for (const [format, bytes] of Object.entries(sources)) {
          const got = await loadImages(context, bytes, options);
          expect(got.numRows, format).toBe(plain.numRows);
          for (const name of paths) {
            const arrowType = got.images.get(name)?.arrowType;
            expect(arrowType, `${format}: ${name}`).toMatch(/^RunEndEncoded<Int(16|32|64), /);
          }
          try {
            expectSameImages(got.images, want.images, plain);
          } catch (error) {
            throw new Error(`${format}: ${(error as Error).message}`);
          }
        }
      });
    });
  }
});

/** A two-batch table: a valid first batch, then `bad` as the RunEndEncoded column `ree` of the second. */
function withBadBatch(bad: Vector): Table {
  const good = runEndVector(new Int32(), [1], vectorFromArray([2.5], new Float64()));
  const batch = (ree: Vector) =>
    batchOf(ree.length, { ree, id: vectorFromArray(Int32Array.from({ length: ree.length }, (_, i) => i)) });
  const first = batch(good);
  return new Table([first, new RecordBatch(first.schema, batch(bad).data)]);
}

const FLOATS = vectorFromArray([1.5, null, 3.5, 4.5], new Float64());

describe('malformed runs fail the load as CORRUPT, naming batch, column and byte offset, and leak nothing', () => {
  const cases: Record<string, { bytes: Uint8Array; message: RegExp }> = {
    'run ends that decrease': {
      bytes: runEndIpc(withBadBatch(runEndVector(new Int32(), [3, 2, 10], FLOATS, 10)), ['ree'], 'stream'),
      message: /run 1 ends at 2/,
    },
    'a first run end of 0': {
      bytes: runEndIpc(withBadBatch(runEndVector(new Int32(), [0, 2, 10], FLOATS, 10)), ['ree'], 'stream'),
      message: /run 0 ends at 0/,
    },
    'runs that end before the rows do': {
      bytes: runEndIpc(withBadBatch(runEndVector(new Int32(), [3, 6], FLOATS, 10)), ['ree'], 'stream'),
      message: /last run ends at row 6, before the array's 10 rows/,
    },
    'more runs than values': {
      bytes: runEndIpc(
        withBadBatch(runEndVector(new Int32(), [1, 2, 3, 4, 5, 10], FLOATS, 10)),
        ['ree'],
        'stream',
      ),
      message: /values child holds 4 values, its runs need 6/,
    },
    'a run_ends buffer shorter than its node': {
      // Buffers as written: ree's validity (taken out), run_ends' validity and values, values', id's.
      bytes: retyped(
        withBadBatch(runEndVector(new Int32(), [3, 6, 10], FLOATS, 10)),
        {
          tags: { ree: TypeTag.RunEndEncoded },
          buffers: (b) => {
            const kept = b.slice(1);
            kept[1] = new BufferRegion((kept[1] as BufferRegion).offset, 4);
            return kept;
          },
        },
        'stream',
      ),
      message: /run_ends buffer holds 1 run ends, its node declares 3/,
    },
  };
  for (const [what, { bytes, message }] of Object.entries(cases)) {
    it(what, async () => {
      const second = batchMessages(bytes).filter((m) => m.kind === MessageKind.RecordBatch)[1];
      await withContext(async (context) => {
        const before = context.tracker.count;
        let closed = 0;
        const error = await runPipeline({
          gpu: context,
          source: whole(bytes),
          url: 'test://bad-ree',
          bytesTotal: bytes.byteLength,
          upload: 'staging',
          closeSource: () => closed++,
        }).then(
          () => new Error('the load succeeded'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ArrowGpuError);
        const { code, details } = error as ArrowGpuError;
        expect(code).toBe('CORRUPT');
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).toContain('column "ree" of batch 1');
        expect(details).toMatchObject({ column: 'ree', batch: 1, byteOffset: second?.at });
        expect(context.tracker.count, 'buffers alive after the failed load').toBe(before);
        expect(closed, 'closeSource calls').toBe(1);
      });
    });
  }
});
