import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DataType, Field, Int32, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { FlatbufferView } from '../../src/core/ipc/flatbuffer-view.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { MAX_FIELD_DEPTH } from '../../src/core/ipc/metadata/field.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { encodeDataset, whole } from '../support/byte-sources.js';

// Lying metadata must fail in our checks, with a message that says what lied, before apache-arrow
// (which trusts every length and count) loops, recurses, pads or reads past its lists.

async function failureOf(bytes: Uint8Array): Promise<ArrowGpuError> {
  const url = 'test://lying';
  try {
    const stream = await openBatchStream(new IpcFramer(whole(bytes), url), url);
    for await (const _ of stream.batches);
  } catch (error) {
    if (error instanceof ArrowGpuError) return error;
    throw error;
  }
  throw new Error('the bytes loaded');
}

interface Message {
  /** Offset of the message's metadata flatbuffer in the stream. */
  at: number;
  fb: FlatbufferView;
  kind: number;
  /** The header table (Schema, RecordBatch or DictionaryBatch). */
  header: number;
}

/** The messages of a stream, with a view of each one's metadata. */
function messagesOf(bytes: Uint8Array): Message[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Message[] = [];
  for (let at = 0; at + 8 <= bytes.byteLength; ) {
    const length = view.getInt32(at + 4, true);
    if (length === 0) break;
    const fb = new FlatbufferView(bytes.subarray(at + 8, at + 8 + length));
    const message = fb.root();
    const bodyField = fb.field(message, 3);
    const bodyLength = bodyField === null ? 0 : fb.i64(bodyField);
    out.push({
      at: at + 8,
      fb,
      kind: fb.u8(fb.field(message, 1) as number),
      header: fb.indirect(fb.field(message, 2) as number),
    });
    at += 8 + length + bodyLength;
  }
  return out;
}

function firstOf(messages: Message[], kind: number): Message {
  return messages.find((m) => m.kind === kind) as Message;
}

const stream = () =>
  encodeDataset({ rows: 64, batchRows: 64, format: 'stream', columns: { a: 'i32', b: 'f64' } });

describe('message metadata is checked before apache-arrow decodes it', () => {
  it('rejects a schema whose field count runs past its metadata with CORRUPT, at once', async () => {
    const bytes = stream();
    const schema = firstOf(messagesOf(bytes), MessageKind.Schema);
    const count = schema.at + schema.fb.indirect(schema.fb.field(schema.header, 1) as number);
    new DataView(bytes.buffer).setUint32(count, 0x7fffffff, true);
    const started = performance.now();
    const error = await failureOf(bytes);
    expect(performance.now() - started).toBeLessThan(100);
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain('invalid message metadata flatbuffer');
  });

  it(`rejects a schema nested deeper than ${MAX_FIELD_DEPTH} levels with CORRUPT`, async () => {
    let type: DataType = new Int32();
    for (let i = 0; i < MAX_FIELD_DEPTH + 5; i++) type = new Struct([new Field('c', type)]);
    const bytes = tableToIPC(new Table(new Schema([new Field('deep', type)])), 'stream');
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain(`deeper than ${MAX_FIELD_DEPTH}`);
  });

  it('rejects a record batch that declares more rows than its columns hold, before apache-arrow pads them', async () => {
    const bytes = stream();
    const batch = firstOf(messagesOf(bytes), MessageKind.RecordBatch);
    const rows = batch.at + (batch.fb.field(batch.header, 0) as number);
    new DataView(bytes.buffer).setBigInt64(rows, 1n << 33n, true);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain('field 0 of the record batch has 64 rows, the batch declares 8589934592');
  });

  it('rejects a record batch that lists fewer buffers than its schema needs with CORRUPT', async () => {
    const bytes = stream();
    const batch = firstOf(messagesOf(bytes), MessageKind.RecordBatch);
    const count = batch.at + batch.fb.indirect(batch.fb.field(batch.header, 2) as number);
    new DataView(bytes.buffer).setUint32(count, 1, true);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain('lists 2 field nodes and 1 buffers, its schema needs 2 and 4');
  });

  it('rejects a dictionary batch for a dictionary the schema lacks with CORRUPT', async () => {
    const path = join(import.meta.dirname, '../data/arrow-testing/1.0.0-littleendian');
    const bytes = new Uint8Array(readFileSync(join(path, 'generated_dictionary.stream')));
    // Id 0 is the flatbuffer default, left out of the metadata: take a dictionary with another id.
    const dictionary = messagesOf(bytes).find(
      (m) => m.kind === MessageKind.DictionaryBatch && m.fb.field(m.header, 0) !== null,
    ) as Message;
    const id = dictionary.at + (dictionary.fb.field(dictionary.header, 0) as number);
    new DataView(bytes.buffer).setBigInt64(id, 999n, true);
    const error = await failureOf(bytes);
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain('dictionary batch (id 999)');
  });
});

describe('FlatbufferView.i64', () => {
  /** The value as a number when it is a safe integer, else the infinity of its sign. */
  const expected = (value: bigint) =>
    value > BigInt(Number.MAX_SAFE_INTEGER)
      ? Number.POSITIVE_INFINITY
      : value < BigInt(Number.MIN_SAFE_INTEGER)
        ? Number.NEGATIVE_INFINITY
        : Number(value);

  it('reads any 64-bit value as the number it is, or ±Infinity past the safe integers', () => {
    const edges = [
      0n,
      1n,
      -1n,
      2n ** 32n,
      -(2n ** 32n),
      2n ** 53n - 1n,
      2n ** 53n,
      -(2n ** 53n) + 1n,
      -(2n ** 53n),
    ];
    const around = edges.flatMap((v) => [v - 1n, v, v + 1n]);
    const extremes = [2n ** 63n - 1n, -(2n ** 63n)];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          fc.constantFrom(...around, ...extremes),
        ),
        fc.nat(7),
        (value, at) => {
          const bytes = new Uint8Array(16);
          new DataView(bytes.buffer).setBigInt64(at, value, true);
          expect(new FlatbufferView(bytes).i64(at)).toBe(expected(value));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
