import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { blobSource } from '../../src/core/source/blob-source.js';
import type { ByteSource } from '../../src/core/source/byte-source.js';
import { bytesSource } from '../../src/core/source/bytes-source.js';
import { discardSourceSpec, openSourceSpec } from '../../src/core/source/open-source-spec.js';
import { streamSource } from '../../src/core/source/stream-source.js';
import { encodeDataset } from '../support/byte-sources.js';
import { byteStream, cutAt, errorOf, watchedStream } from '../support/web-streams.js';

// The byte sources that are not URLs: a ReadableStream (a Response's body too), a Blob, bytes in memory.

async function collect(source: ByteSource): Promise<Uint8Array> {
  const parts: number[] = [];
  for await (const chunk of source.body) parts.push(...chunk);
  return new Uint8Array(parts);
}

const never = () => new AbortController().signal;

describe('streamSource', () => {
  it('yields every byte in order whatever the chunking, with the length it was given', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1 }),
        async (bytes, sizes) => {
          const source = streamSource(byteStream(cutAt(bytes, sizes)), 'stream', never(), {
            bytesTotal: bytes.byteLength,
          });
          expect(source.bytesTotal).toBe(bytes.byteLength);
          expect(source.readTail).toBeUndefined();
          expect([...(await collect(source))]).toEqual([...bytes]);
        },
      ),
    );
  });

  it('takes other typed arrays and ArrayBuffers as their bytes', async () => {
    const chunks = [
      new Uint16Array([0x0201, 0x0403]),
      new Uint8Array([5, 6]).buffer,
      new DataView(new Uint8Array([7]).buffer),
    ];
    const source = streamSource(byteStream(chunks), 'stream', never());
    expect(source.bytesTotal).toBeNull();
    expect([...(await collect(source))]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('fails a chunk that is not bytes with INVALID_ARGUMENT at its offset, and cancels the stream', async () => {
    const watched = watchedStream([new Uint8Array(5), 'text' as unknown as Uint8Array, new Uint8Array(3)]);
    const error = await errorOf(collect(streamSource(watched.stream, 'stream', never())));
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'source', url: 'stream', byteOffset: 5 },
    });
    expect(error.message).toContain('must yield Uint8Array chunks, got a string after 5 bytes');
    expect(watched.cancelled).toBe(true);
  });

  it('fails a stream that errors midway with NETWORK naming it and the bytes received', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10));
        controller.enqueue(new Uint8Array(7));
      },
      pull(controller) {
        controller.error(new Error('disk gone'));
      },
    });
    const error = await errorOf(collect(streamSource(stream, 'blob:trips.arrow', never())));
    expect(error).toBeInstanceOf(ArrowGpuError);
    expect(error).toMatchObject({ code: 'NETWORK', details: { url: 'blob:trips.arrow', byteOffset: 17 } });
    expect(error.message).toBe('blob:trips.arrow failed after 17 bytes: Error: disk gone');
  });

  it('an abort while a read waits fails with ABORTED and cancels the stream', async () => {
    const watched = watchedStream([new Uint8Array(4)], { hang: true });
    const controller = new AbortController();
    const source = streamSource(watched.stream, 'stream', controller.signal);
    const iterator = source.body[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.byteLength).toBe(4);
    const pending = iterator.next();
    controller.abort();
    expect(await errorOf(pending)).toMatchObject({ code: 'ABORTED', details: { url: 'stream' } });
    expect(watched.cancelled).toBe(true);
  });

  it('an abort before any read cancels the stream all the same (a load that failed before reading)', async () => {
    const watched = watchedStream([new Uint8Array(4)], { hang: true });
    const controller = new AbortController();
    streamSource(watched.stream, 'stream', controller.signal);
    expect(watched.stream.locked).toBe(true);
    controller.abort();
    await Promise.resolve();
    expect(watched.cancelled).toBe(true);
  });

  it('a consumer that stops early cancels the stream; one that reads to the end does not', async () => {
    const early = watchedStream([new Uint8Array(4), new Uint8Array(4)], { hang: true });
    for await (const _ of streamSource(early.stream, 'stream', never()).body) break;
    expect(early.cancelled).toBe(true);

    const full = watchedStream([new Uint8Array(4), new Uint8Array(4)]);
    const controller = new AbortController();
    expect((await collect(streamSource(full.stream, 'stream', controller.signal))).byteLength).toBe(8);
    controller.abort(); // the end of the load: nothing left to cancel
    expect(full.cancelled).toBe(false);
  });

  it('fails with NETWORK when no chunk comes for timeoutMs, and cancels the stream', async () => {
    const watched = watchedStream([new Uint8Array(9)], { hang: true });
    const error = await errorOf(collect(streamSource(watched.stream, 'stream', never(), { timeoutMs: 30 })));
    expect(error).toMatchObject({ code: 'NETWORK', details: { url: 'stream', byteOffset: 9 } });
    expect(error.message).toBe('stream stalled: no bytes for 30 ms after 9 bytes');
    expect(watched.cancelled).toBe(true);
  });

  it('refuses a locked stream with INVALID_ARGUMENT', () => {
    const stream = byteStream([new Uint8Array(1)]);
    stream.getReader();
    expect(() => streamSource(stream, 'stream', never())).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { option: 'source', url: 'stream' } }),
    );
  });
});

describe('blobSource and bytesSource', () => {
  const bytes = encodeDataset({
    rows: 3000,
    batchRows: 700,
    format: 'file',
    columns: { x: 'f32', id: 'i32' },
  });

  it('a Blob gives its bytes, its size, and its end by slicing', async () => {
    const source = blobSource(new Blob([bytes.slice(0, 100), bytes.slice(100)]), 'blob', never());
    expect(source.bytesTotal).toBe(bytes.byteLength);
    expect(await collect(source)).toEqual(bytes);
    expect(await source.readTail?.(10)).toEqual(bytes.subarray(bytes.byteLength - 10));
    expect(await source.readTail?.(bytes.byteLength + 5)).toEqual(bytes);
  });

  it('bytes are one chunk, a view of the same memory (no copy), and so is their end', async () => {
    const source = bytesSource(bytes);
    const chunks: Uint8Array[] = [];
    for await (const chunk of source.body) chunks.push(chunk);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.buffer).toBe(bytes.buffer);
    expect(source.bytesTotal).toBe(bytes.byteLength);
    const tail = await source.readTail?.(10);
    expect(tail?.buffer).toBe(bytes.buffer);
    expect(tail).toEqual(bytes.subarray(bytes.byteLength - 10));
    const empty: Uint8Array[] = [];
    for await (const chunk of bytesSource(new Uint8Array(0)).body) empty.push(chunk);
    expect(empty).toEqual([]);
  });

  it('discardSourceSpec cancels a stream never opened, and leaves an opened one to its reader', async () => {
    const unopened = watchedStream([new Uint8Array(1)], { hang: true });
    discardSourceSpec(
      { kind: 'stream', stream: unopened.stream, bytesTotal: null },
      new Error('load failed'),
    );
    await Promise.resolve();
    expect(unopened.cancelled).toBe(true);
    const opened = watchedStream([new Uint8Array(1)]);
    openSourceSpec({ kind: 'stream', stream: opened.stream, bytesTotal: null }, 'stream', never(), {});
    discardSourceSpec({ kind: 'stream', stream: opened.stream, bytesTotal: null }, new Error('load failed'));
    await Promise.resolve();
    expect(opened.cancelled).toBe(false);
  });
});

/** A numeric column's values. */
function valuesOf(
  table: { getChild(name: string): { toArray(): ArrayLike<number> } | null },
  name: string,
): number[] {
  const column = table.getChild(name);
  if (!column) throw new Error(`no column ${name}`);
  return Array.from(column.toArray());
}

/** The named columns a framer reads from `source`, every batch's values one after another, as apache-arrow decodes them. */
async function columnsThrough(
  source: ByteSource,
  name: string,
  names: readonly string[],
): Promise<number[][]> {
  const framer = new IpcFramer(source.body, name, undefined, source.readTail);
  const out = names.map(() => [] as number[]);
  for await (const { batch } of (await openBatchStream(framer, name)).batches) {
    names.forEach((column, i) => {
      out[i]?.push(...valuesOf(batch, column));
    });
  }
  return out;
}

/** The named columns of IPC bytes, as apache-arrow reads them whole. */
function columnsOf(bytes: Uint8Array, names: readonly string[]): number[][] {
  const table = tableFromIPC(bytes);
  return names.map((name) => valuesOf(table, name));
}

describe('the file format from each source', () => {
  // apache-arrow JS writes a file's schema in its footer only; Arrow C++ (and Java, Rust) before the batches too.
  const footerOnly = encodeDataset({
    rows: 5000,
    batchRows: 999,
    format: 'file',
    columns: { x: 'f32', id: 'i32' },
  });
  const schemaFirst = new Uint8Array(
    readFileSync(
      join(import.meta.dirname, '../data/arrow-testing/1.0.0-littleendian/generated_primitive.arrow_file'),
    ),
  );
  const NUMERIC = [
    'int8_nullable',
    'uint16_nonnullable',
    'int32_nullable',
    'float32_nullable',
    'float64_nonnullable',
  ];
  const open = (spec: Parameters<typeof openSourceSpec>[0]) => openSourceSpec(spec, 'src', never(), {});

  it('a Blob or bytes read the footer by slicing and give every row', async () => {
    const expected = columnsOf(footerOnly, ['x', 'id']);
    expect(expected[0]).toHaveLength(5000);
    const bytes = open({ kind: 'bytes', bytes: footerOnly.slice() });
    expect(await columnsThrough(bytes, 'bytes', ['x', 'id'])).toEqual(expected);
    const blob = open({ kind: 'blob', blob: new Blob([footerOnly.slice()]) });
    expect(await columnsThrough(blob, 'blob', ['x', 'id'])).toEqual(expected);
  });

  it('a stream of a file with its schema first is read through as the stream inside it: every row', async () => {
    expect(schemaFirst[8]).toBe(0xff); // a message right after the magic
    const expected = columnsOf(schemaFirst, NUMERIC);
    expect(expected[0]).toHaveLength(37);
    const source = streamSource(byteStream(cutAt(schemaFirst, [1, 7, 4093])), 'stream', never());
    expect(await columnsThrough(source, 'stream', NUMERIC)).toEqual(expected);
  });

  it('a stream of a file whose schema is only in its footer fails with INVALID_ARGUMENT naming the source', async () => {
    const source = streamSource(byteStream(cutAt(footerOnly, [4096])), 'response http://x/t.arrow', never());
    const error = await errorOf(columnsThrough(source, 'response http://x/t.arrow', ['x']));
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'source', url: 'response http://x/t.arrow' },
    });
    expect(error.message).toMatch(
      /^response http:\/\/x\/t\.arrow is an Arrow file whose schema is only in its footer/,
    );
  });
});
