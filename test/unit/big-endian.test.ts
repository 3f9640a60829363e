import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BinaryView,
  CompressionType,
  type Data,
  Decimal,
  Dictionary,
  DurationSecond,
  Field,
  Float16,
  Int8,
  Int16,
  Int32,
  Int64,
  IntervalMonthDayNano,
  LargeList,
  LargeUtf8,
  type RecordBatch,
  Table,
  TimeNanosecond,
  tableFromIPC,
  tableToIPC,
  Utf8,
  Utf8View,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { FlatbufferView } from '../../src/core/ipc/flatbuffer-view.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { Field as FieldSlot, Int, Message, Schema } from '../../src/core/ipc/metadata/slots.js';
import { toBigEndian } from '../support/big-endian.js';
import { chunked, whole } from '../support/byte-sources.js';
import { type BatchMessage, batchMessages, prefixOffsets } from '../support/compressed-ipc.js';
import { decodeAll, errorOf, valuesOf } from '../support/decode.js';
import { everyTypeTable } from '../support/every-type.js';

// Big-endian IPC (Schema.endianness = Big) must load exactly as its little-endian twin: apache-arrow reads
// every number little-endian, so the library reverses them in each batch body first. The bodies are
// swapped in place: every source here is a copy.

const ARROW_TESTING = join(import.meta.dirname, '../data/arrow-testing');

/** Every buffer of every column, as plain arrays (big integers as strings), to compare bytes exactly. */
function rawOf(batches: RecordBatch[]): unknown[] {
  const raw = (data: Data): unknown => ({
    // The fixture's schema is re-encoded by apache-arrow, which names a nameless child "null".
    type: String(data.type).replaceAll('null:', ':'),
    length: data.length,
    values: plain(data.values),
    offsets: plain(data.valueOffsets),
    typeIds: plain(data.typeIds),
    children: data.children.map(raw),
    dictionary: data.dictionary?.data.map(raw),
  });
  return batches.map((b) => b.data.children.map(raw));
}

function plain(array: ArrayLike<unknown> | undefined): unknown[] {
  return array ? Array.from(array, (v) => (typeof v === 'bigint' ? String(v) : v)) : [];
}

async function expectTwins(little: Uint8Array, name: string): Promise<void> {
  const big = toBigEndian(little);
  const want = await decodeAll(whole(little), name, little);
  for (const source of [whole(big.slice()), chunked(big, [7, 300, 1])]) {
    const got = await decodeAll(source, name, big);
    expect(rawOf(got), name).toEqual(rawOf(want));
    if (String(got[0]?.schema.fields) === String(want[0]?.schema.fields)) {
      expect(valuesOf(got), name).toEqual(valuesOf(want));
    }
  }
}

/** Types the every-type table leaves out: other widths, views, unions of intervals… */
function moreTypes(rows: number): Table {
  const pick = <T>(make: (i: number) => T) =>
    Array.from({ length: rows }, (_, i) => (i % 5 === 3 ? null : make(i)));
  return new Table({
    f16: vectorFromArray(
      pick((i) => i / 4 - 3),
      new Float16(),
    ),
    dur: vectorFromArray(
      pick((i) => BigInt(i * 1_000_003 - 7)),
      new DurationSecond(),
    ),
    t64: vectorFromArray(
      pick((i) => BigInt(i) * 86_399_999_999n),
      new TimeNanosecond(),
    ),
    d256: vectorFromArray(
      pick((i) => new Uint32Array(8).map((_, w) => (i * 2654435761 + w * 40503) >>> 0)),
      new Decimal(3, 70, 256),
    ),
    mdn: vectorFromArray(
      pick((i) => new Int32Array([i, -i, i * 977, i - 9])),
      new IntervalMonthDayNano(),
    ),
    big: vectorFromArray(
      pick((i) => `${'x'.repeat(i % 17)}${i}`),
      new LargeUtf8(),
    ),
    lists: vectorFromArray(
      pick((i) => Array.from({ length: i % 4 }, (_, k) => BigInt(i * k) - 5n)),
      new LargeList(new Field('v', new Int64(), true)),
    ),
    d8: vectorFromArray(
      pick((i) => ['a', 'b', 'c'][i % 3] as string),
      new Dictionary(new Utf8(), new Int8()),
    ),
    d16: vectorFromArray(
      pick((i) => `k${i % 300}`),
      new Dictionary(new Utf8(), new Int16()),
    ),
    view: vectorFromArray(
      pick((i) => (i % 2 ? `short${i}` : `a string longer than twelve bytes ${i}`)),
      new Utf8View(),
    ),
    bview: vectorFromArray(
      pick((i) => new Uint8Array(i % 30).fill(i)),
      new BinaryView(),
    ),
  });
}

describe('big-endian IPC', () => {
  it('the fixtures are big-endian: apache-arrow alone reads other values from them', () => {
    const little = tableToIPC(everyTypeTable('stream'), 'stream');
    const big = toBigEndian(little);
    expect(big.byteLength).toBeGreaterThan(0);
    expect(rawOf(tableFromIPC(big).batches)).not.toEqual(rawOf(tableFromIPC(little).batches));
  });

  for (const format of ['stream', 'file'] as const) {
    it(`every type, with nulls and replaced dictionaries (${format}), loads exactly as little-endian`, async () => {
      await expectTwins(tableToIPC(everyTypeTable(format), format), `every-type.${format}`);
      await expectTwins(tableToIPC(moreTypes(203), format), `more-types.${format}`);
    });
  }

  const names = ['1.0.0-littleendian', '4.0.0-shareddict'].flatMap((dir) =>
    readdirSync(join(ARROW_TESTING, dir))
      .filter((f) => f.endsWith('.stream') || f.endsWith('.arrow_file'))
      .map((f) => `${dir}/${f}`),
  );
  it(`Arrow C++ integration files turned big-endian load exactly as the originals (${names.length} files)`, async () => {
    for (const name of names)
      await expectTwins(new Uint8Array(readFileSync(join(ARROW_TESTING, name))), name);
  });

  it('compressed big-endian bodies (ZSTD, LZ4 frame) are decompressed, then swapped', async () => {
    for (const codec of [CompressionType.ZSTD, CompressionType.LZ4_FRAME]) {
      for (const format of ['stream', 'file'] as const) {
        const little = tableToIPC(everyTypeTable(format), format);
        const big = toBigEndian(little, codec);
        const want = await decodeAll(whole(little), 'little', little);
        for (const source of [whole(big.slice()), chunked(big, [7, 300, 1])]) {
          const got = await decodeAll(source, `big.${format}`, big);
          expect(rawOf(got), `${codec} ${format}`).toEqual(rawOf(want));
        }
      }
    }
    const more = tableToIPC(moreTypes(150), 'stream');
    const got = await decodeAll(whole(toBigEndian(more, CompressionType.ZSTD)));
    expect(rawOf(got)).toEqual(rawOf(await decodeAll(whole(more))));
  });

  it('a compressed big-endian buffer that lies about its length is still CORRUPT before it is decompressed', async () => {
    const big = toBigEndian(tableToIPC(everyTypeTable('stream'), 'stream'), CompressionType.ZSTD);
    const view = new DataView(big.buffer, big.byteOffset, big.byteLength);
    // The first record batch's first non-empty buffer: claim 1 GiB.
    const batch = batchMessages(big).find((m) => m.kind === MessageKind.RecordBatch) as BatchMessage;
    const at = prefixOffsets(batch).find((p) => p !== null) as number;
    view.setBigInt64(at, 1n << 30n, true);
    const error = await errorOf(decodeAll(whole(big)));
    expect(error.code).toBe('CORRUPT');
  });

  it('refuses a big-endian column whose values have no known width with UNSUPPORTED_TYPE naming it', async () => {
    const table = new Table({
      ok: vectorFromArray([1, 2], new Int32()),
      odd: vectorFromArray([3, 4], new Int32()),
    });
    const big = toBigEndian(tableToIPC(table, 'stream'));
    // The second field's Int bitWidth: 32 → 24, which no number has.
    const fb = new FlatbufferView(big.subarray(8));
    const schema = fb.indirect(fb.field(fb.root(), Message.header) as number);
    const fields = fb.vector(fb.field(schema, Schema.fields) as number, 4);
    const odd = fb.indirect(fields.start + 4);
    const int = fb.indirect(fb.field(odd, FieldSlot.type) as number);
    new DataView(big.buffer, big.byteOffset + 8).setInt32(fb.field(int, Int.bitWidth) as number, 24, true);
    const error = await errorOf(decodeAll(whole(big)));
    expect(error.code).toBe('UNSUPPORTED_TYPE');
    expect(error.message).toContain('big-endian');
    expect(error.details.column).toBe('odd');
  });
});
