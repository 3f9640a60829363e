import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunked, encodeDataset, streamed, whole } from '../support/byte-sources.js';
import { codeOf, decodeAll, errorOf, valuesOf } from '../support/decode.js';
import { everyTypeTable } from '../support/every-type.js';
import { legacyFile, legacyStream, toLegacyFraming } from '../support/legacy-ipc.js';

// Arrow before 0.15 framed each message with a bare int32 metadata length (no ff ff ff ff marker) and
// ended a stream with an int32 0. Such streams and files must load exactly as their modern twins.

const ARROW_TESTING = join(import.meta.dirname, '../data/arrow-testing');

const SPEC = {
  rows: 3001,
  batchRows: 700,
  columns: { a: 'f32', b: 'f64', c: 'i8', s: 'utf8' },
  nulls: { b: 0.2 },
} as const;

async function expectSameEverywhere(bytes: Uint8Array, expected: unknown[][]): Promise<void> {
  expect(valuesOf(await decodeAll(whole(bytes), 'whole', bytes))).toEqual(expected);
  expect(valuesOf(await decodeAll(streamed(bytes, 4096), 'streamed', bytes))).toEqual(expected);
  expect(valuesOf(await decodeAll(chunked(bytes, [1, 7, 3, 8, 13]), 'chunked', bytes))).toEqual(expected);
}

describe('legacy framing (Arrow before 0.15)', () => {
  const table = tableFromIPC(encodeDataset({ ...SPEC, format: 'stream', columns: { ...SPEC.columns } }));
  const expected = valuesOf(table.batches);

  it('writes what it claims: no continuation marker before any message', () => {
    const stream = legacyStream(table);
    expect(new DataView(stream.buffer, stream.byteOffset).getUint32(0, true)).not.toBe(0xffffffff);
    expect([...stream.subarray(stream.byteLength - 4)]).toEqual([0, 0, 0, 0]);
    const file = legacyFile(table);
    expect(new DataView(file.buffer, file.byteOffset).getUint32(8, true)).not.toBe(0xffffffff);
  });

  it('decodes a legacy stream as the modern one: whole, chunked, through a ReadableStream', async () => {
    const bytes = legacyStream(table);
    await expectSameEverywhere(bytes, expected);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 6 }),
        async (sizes) => {
          expect(valuesOf(await decodeAll(chunked(bytes, sizes)))).toEqual(expected);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('decodes a legacy file (schema in the footer only, as apache-arrow writes it) as the modern one', async () => {
    const bytes = legacyFile(table);
    expect(tableFromIPC(bytes).numRows).toBe(SPEC.rows);
    await expectSameEverywhere(bytes, expected);
  });

  it('decodes every type, nulls and dictionaries, in legacy streams and files', async () => {
    for (const format of ['stream', 'file'] as const) {
      const source = everyTypeTable(format);
      const modern = valuesOf(
        await decodeAll(whole(tableToIPC(source, format)), 'modern', tableToIPC(source, format)),
      );
      const bytes = format === 'stream' ? legacyStream(source) : legacyFile(source);
      await expectSameEverywhere(bytes, modern);
    }
  });

  it('decodes Arrow C++ integration files reframed as legacy (schema message in the file, dictionaries)', async () => {
    const names = [
      '1.0.0-littleendian/generated_dictionary',
      '1.0.0-littleendian/generated_nested',
      '4.0.0-shareddict/generated_shared_dict',
      '1.0.0-littleendian/generated_primitive_no_batches',
    ];
    for (const name of names) {
      for (const ext of ['stream', 'arrow_file']) {
        const modern = new Uint8Array(readFileSync(join(ARROW_TESTING, `${name}.${ext}`)));
        const legacy = toLegacyFraming(modern);
        expect(legacy).not.toEqual(modern);
        const want = valuesOf(await decodeAll(whole(modern), name, modern));
        expect(
          valuesOf(await decodeAll(chunked(legacy, [5, 64, 3]), name, legacy)),
          `${name}.${ext}`,
        ).toEqual(want);
      }
    }
  });

  it('a legacy stream cut inside a message fails with TRUNCATED; between messages it yields the batches before', async () => {
    const small = tableFromIPC(
      encodeDataset({ rows: 200, batchRows: 100, format: 'stream', columns: { a: 'i32' } }),
    );
    const bytes = legacyStream(small);
    const all = valuesOf(await decodeAll(whole(bytes)));
    for (let cut = 8; cut < bytes.byteLength; cut++) {
      let result: unknown[][] | string;
      try {
        result = valuesOf(await decodeAll(whole(bytes.subarray(0, cut))));
      } catch (error) {
        result = (error as { code: string }).code;
      }
      if (typeof result === 'string') expect(result, `cut at ${cut}`).toBe('TRUNCATED');
      else expect(result).toEqual(all.slice(0, result.length));
    }
  });

  it('a legacy file cut anywhere fails with TRUNCATED', async () => {
    const bytes = legacyFile(
      tableFromIPC(encodeDataset({ rows: 200, batchRows: 100, format: 'file', columns: { a: 'i32' } })),
    );
    for (let cut = 1; cut < bytes.byteLength; cut += 1 + (cut % 3)) {
      const cutBytes = bytes.subarray(0, cut);
      expect(await codeOf(decodeAll(whole(cutBytes), 'cut', cutBytes)), `cut at ${cut}`).toBe('TRUNCATED');
    }
  });

  it('still rejects noise as NOT_ARROW, also noise that starts like a legacy length', async () => {
    const gzip = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 1, 2, 3]);
    const zeros = new Uint8Array(64);
    // A length of 16 and a root offset of 8, then bytes that are no flatbuffer Message.
    const plausible = Uint8Array.from([
      16, 0, 0, 0, 8, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 9, 9, 9, 9, 1, 2, 3, 4,
    ]);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    for (const noise of [gzip, zeros, plausible, png]) {
      expect(await codeOf(decodeAll(whole(noise))), `${[...noise.subarray(0, 8)]}`).toBe('NOT_ARROW');
    }
    const error = await errorOf(decodeAll(whole(plausible), 'test://noise'));
    expect(error.message).toContain('before Arrow 0.15');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 8, maxLength: 200 }), async (noise) => {
        fc.pre(
          noise[0] !== 0x41 &&
            !(noise[0] === 0xff && noise[1] === 0xff && noise[2] === 0xff && noise[3] === 0xff),
        );
        expect(await codeOf(decodeAll(whole(noise)))).toMatch(/^(NOT_ARROW|TRUNCATED)$/);
      }),
      { numRuns: 300 },
    );
  });

  it('a file whose message cannot be read fails with CORRUPT, never with fewer rows', async () => {
    for (const bytes of [tableToIPC(table, 'file'), legacyFile(table)]) {
      const bad = bytes.slice();
      // The second batch's message starts after the first one: break its length prefix.
      new DataView(bad.buffer).setUint32(8 + messageSize(bytes, 8), 0x7fffffff, true);
      expect(await codeOf(decodeAll(whole(bad), 'bad', bad))).toBe('CORRUPT');
    }
  });

  it('refuses metadata older than V4 with UNSUPPORTED_TYPE', async () => {
    const bytes = tableToIPC(table, 'stream');
    // The schema message's version (Message slot 0, a short) is its first field: set it to V3 (2).
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const table0 = 8 + view.getUint32(8, true);
    const vtable = table0 - view.getInt32(table0, true);
    view.setInt16(table0 + view.getUint16(vtable + 4, true), 2, true);
    const error = await errorOf(decodeAll(whole(bytes)));
    expect(error.code).toBe('UNSUPPORTED_TYPE');
    expect(error.message).toContain('V3');
  });
});

/** The total size (prefix, metadata, body) of the message at `at` of a modern or legacy source. */
function messageSize(bytes: Uint8Array, at: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const marker = view.getUint32(at, true) === 0xffffffff;
  const length = view.getInt32(at + (marker ? 4 : 0), true);
  const metadataStart = at + (marker ? 8 : 4);
  const table = metadataStart + view.getUint32(metadataStart, true);
  const vtable = table - view.getInt32(table, true);
  const offset = view.getUint16(vtable + 4 + 3 * 2, true);
  const body = offset === 0 ? 0 : Number(view.getBigInt64(table + offset, true));
  return (marker ? 8 : 4) + length + body;
}
