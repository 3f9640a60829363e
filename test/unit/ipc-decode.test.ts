import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  Dictionary,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  tableFromIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { chunked, encodeDataset, streamed, whole } from '../support/byte-sources.js';

const ARROW_TESTING = join(import.meta.dirname, '../data/arrow-testing');

async function decodeAll(
  source: AsyncIterable<Uint8Array>,
  url = 'test://bytes',
  file?: Uint8Array,
): Promise<RecordBatch[]> {
  const readTail = file ? async (n: number) => file.subarray(Math.max(0, file.byteLength - n)) : undefined;
  const stream = await openBatchStream(new IpcFramer(source, url, undefined, readTail), url);
  const out: RecordBatch[] = [];
  for await (const { batch } of stream.batches) out.push(batch);
  return out;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof ArrowGpuError) return error.code;
    throw error;
  }
}

function columnsOf(batches: RecordBatch[]): unknown[][] {
  return batches.map((b) => b.schema.fields.map((_, i) => b.getChildAt(i)?.toArray()));
}

const SPEC = {
  rows: 5003,
  batchRows: 700,
  columns: { a: 'f32', b: 'f64', c: 'i8', d: 'u16', e: 'i32', s: 'utf8' },
  nulls: { b: 0.2, c: 0.5 },
} as const;

describe('IPC framing and streaming decode', () => {
  for (const format of ['stream', 'file'] as const) {
    const bytes = encodeDataset({ ...SPEC, format, columns: { ...SPEC.columns }, nulls: { ...SPEC.nulls } });
    const expected = columnsOf(tableFromIPC(bytes).batches);

    it(`decodes the ${format} format identically whole, in random chunks and through a ReadableStream`, async () => {
      expect(columnsOf(await decodeAll(whole(bytes), 'whole', bytes))).toEqual(expected);
      expect(columnsOf(await decodeAll(streamed(bytes, 4096), 'streamed', bytes))).toEqual(expected);
      expect(columnsOf(await decodeAll(chunked(bytes, [1, 7, 3, 8, 13]), 'chunked', bytes))).toEqual(
        expected,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 20000 }), { minLength: 1, maxLength: 8 }),
          async (sizes) => {
            expect(columnsOf(await decodeAll(chunked(bytes, sizes), 'chunked', bytes))).toEqual(expected);
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('rejects a file cut anywhere with TRUNCATED', async () => {
    const bytes = encodeDataset({
      rows: 300,
      batchRows: 100,
      format: 'file',
      columns: { a: 'i32', b: 'f64' },
    });
    for (let cut = 1; cut < bytes.byteLength; cut += 1 + (cut % 5)) {
      const cutBytes = bytes.subarray(0, cut);
      expect(await codeOf(decodeAll(whole(cutBytes), 'cut', cutBytes)), `cut at ${cut}`).toBe('TRUNCATED');
    }
  });

  it('rejects a stream cut inside a message with TRUNCATED; a cut between messages yields the batches before it', async () => {
    const bytes = encodeDataset({
      rows: 300,
      batchRows: 100,
      format: 'stream',
      columns: { a: 'i32', b: 'f64' },
    });
    const all = await decodeAll(whole(bytes));
    for (let cut = 1; cut < bytes.byteLength; cut++) {
      let result: RecordBatch[] | string;
      try {
        result = await decodeAll(whole(bytes.subarray(0, cut)));
      } catch (error) {
        result = (error as ArrowGpuError).code;
      }
      if (typeof result === 'string') expect(result, `cut at ${cut}`).toBe('TRUNCATED');
      else expect(columnsOf(result)).toEqual(columnsOf(all.slice(0, result.length)));
    }
  });

  it('rejects bytes that are not Arrow with NOT_ARROW and quotes what it saw', async () => {
    const html = new TextEncoder().encode('<!doctype html><html><body>Not found</body></html>');
    const error = await decodeAll(whole(html), 'http://x/data.arrow').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArrowGpuError);
    expect((error as ArrowGpuError).code).toBe('NOT_ARROW');
    expect((error as Error).message).toContain('http://x/data.arrow');
    expect((error as Error).message).toContain('<!doctyp');
    expect(await codeOf(decodeAll(whole(new Uint8Array(0))))).toBe('NOT_ARROW');
    expect(await codeOf(decodeAll(whole(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))))).toBe('NOT_ARROW');
  });

  it('rejects a metadata length beyond the cap with CORRUPT and its byte offset, before allocating', async () => {
    const bytes = encodeDataset({ rows: 10, batchRows: 10, format: 'stream', columns: { a: 'i32' } });
    const bad = bytes.slice();
    new DataView(bad.buffer).setInt32(4, 0x7ffffff0, true);
    const error = (await decodeAll(whole(bad)).catch((e: unknown) => e)) as ArrowGpuError;
    expect(error.code).toBe('CORRUPT');
    expect(error.details.byteOffset).toBe(4);
  });

  it('rejects a body buffer that points past the body with CORRUPT', async () => {
    const bytes = encodeDataset({ rows: 64, batchRows: 64, format: 'stream', columns: { a: 'i32' } });
    // Find the record batch's data buffer entry (offset 8? length 256) and make it longer than the body.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let patched = false;
    for (let i = 0; i + 16 <= bytes.byteLength; i += 8) {
      if (view.getBigInt64(i + 8, true) === 256n && view.getBigInt64(i, true) <= 64n) {
        view.setBigInt64(i + 8, 1n << 40n, true);
        patched = true;
        break;
      }
    }
    expect(patched).toBe(true);
    expect(await codeOf(decodeAll(whole(bytes)))).toBe('CORRUPT');
  });
});

interface JsonColumn {
  name: string;
  count: number;
  VALIDITY?: number[];
  DATA?: unknown[];
}

interface JsonFile {
  batches: Array<{ count: number; columns: JsonColumn[] }>;
}

describe('files written by other Arrow implementations (arrow-testing)', () => {
  const dirs = ['1.0.0-littleendian', '2.0.0-compression', '4.0.0-shareddict'];
  const cases = dirs.flatMap((dir) =>
    readdirSync(join(ARROW_TESTING, dir))
      .filter((f) => f.endsWith('.json.gz'))
      .map((f) => ({ dir, name: f.replace(/\.json\.gz$/, '') })),
  );

  it('finds the integration files', () => {
    expect(cases.length).toBeGreaterThan(20);
  });

  for (const { dir, name } of cases) {
    for (const ext of ['stream', 'arrow_file']) {
      it(`${dir}/${name}.${ext}: same batches, rows and values as its JSON`, async () => {
        const json = JSON.parse(
          gunzipSync(readFileSync(join(ARROW_TESTING, dir, `${name}.json.gz`))).toString(),
        ) as JsonFile;
        const bytes = new Uint8Array(readFileSync(join(ARROW_TESTING, dir, `${name}.${ext}`)));
        const batches = await decodeAll(chunked(bytes, [97, 1024, 5]), `${name}.${ext}`, bytes);
        expect(batches.map((b) => b.numRows)).toEqual(json.batches.map((b) => b.count));
        batches.forEach((batch, b) => {
          batch.schema.fields.forEach((field, c) => {
            if (!/^(U?Int(8|16|32)|Float(32|64))$/.test(String(field.type))) return;
            const column = json.batches[b]?.columns[c] as JsonColumn;
            const vector = batch.getChildAt(c);
            for (let row = 0; row < column.count; row++) {
              const valid = column.VALIDITY?.[row] !== 0;
              expect(vector?.isValid(row), `${field.name}[${row}] validity`).toBe(valid);
              if (valid) {
                const expected = Number(column.DATA?.[row]);
                const actual = vector?.get(row) as number;
                expect(actual, `${field.name}[${row}]`).toBe(
                  String(field.type) === 'Float32' ? Math.fround(expected) : expected,
                );
              }
            }
          });
        });
      });
    }
  }
});

describe('a corrupt dictionary batch', () => {
  /** A stream of three record batches whose dictionary grows by a delta before the second. */
  function deltaStream(): Uint8Array {
    const type = new Dictionary(new Utf8(), new Int32(), 0);
    const schema = new Schema([new Field('s', type, true), new Field('x', new Float64())]);
    const batch = (dictionary: Vector, codes: number[]) =>
      new RecordBatch(
        schema,
        makeData({
          type: new Struct(schema.fields),
          length: codes.length,
          children: [
            makeData({ type, length: codes.length, data: Int32Array.from(codes), dictionary }),
            makeData({ type: new Float64(), length: codes.length, data: Float64Array.from(codes) }),
          ],
        }),
      );
    const first = vectorFromArray(['a', 'b'], new Utf8());
    const grown = first.concat(vectorFromArray(['c', 'd'], new Utf8()));
    const writer = new RecordBatchStreamWriter();
    writer.write(batch(first, [0, 1, 1]));
    writer.write(batch(grown, [3, 2, 0]));
    writer.write(batch(grown, [1, 3]));
    writer.finish();
    return writer.toUint8Array(true);
  }

  it('that apache-arrow fails to decode is named, with its byte offset, beside the batch decoded with it', async () => {
    const bytes = deltaStream();
    const dictionaries: number[] = [];
    for await (const m of new IpcFramer(whole(bytes), 'test://d'))
      if (m.header.kind === MessageKind.DictionaryBatch) dictionaries.push(m.byteOffset);
    const first = dictionaries[0] as number;
    // A bit of the first dictionary's metadata: a buffer offset apache-arrow cannot read Int32 values at.
    const broken = bytes.slice();
    broken[first + 128] = (broken[first + 128] as number) ^ 1;
    const error = await decodeAll(whole(broken), 'test://d').then(
      () => null,
      (e: unknown) => e as ArrowGpuError,
    );
    expect(error?.code).toBe('CORRUPT');
    expect(error?.details.byteOffset).toBe(first);
    expect(error?.message).toMatch(
      new RegExp(`batch 0 .* or a dictionary batch before it \\(from byte ${first}\\)`),
    );
  });
});
