import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { DatasetSpec } from '../../scripts/datasets.js';
import { LoaderService } from '../../src/core/service/loader-service.js';
import type { SourceSpec } from '../../src/core/source/source-spec.js';
import type { WorkerLoadRequest } from '../../src/protocol.js';
import { encodeDataset, tailOf, whole } from '../support/byte-sources.js';
import { dawnGpu, until } from '../support/dawn.js';
import { mismatches, type ReadBack } from '../support/expected-words.js';
import { byteStream, cutAt, errorOf, watchedStream } from '../support/web-streams.js';

// LoaderService on Dawn, given each source that is not a URL: the columns on the GPU are the source's,
// row by row, and a stream is released however the load ends.

const SPEC: DatasetSpec = {
  rows: 6000,
  batchRows: 700,
  format: 'file', // apache-arrow JS: the schema in the footer only
  columns: { x: 'f32', y: 'f64', id: 'i32', kind: 'u16' },
  nulls: { y: 0.2 },
};

/** A service whose URL sources are `bytes`, in one chunk, with their end. */
function serviceOf(bytes: Uint8Array, gpu: GPU | undefined): LoaderService {
  return new LoaderService(gpu, async () => ({
    body: whole(bytes),
    bytesTotal: bytes.byteLength,
    readTail: tailOf(bytes),
  }));
}

/** Every column of a loaded table, read back from the GPU, as `mismatches` takes it. */
async function readBack(service: LoaderService, request: WorkerLoadRequest): Promise<ReadBack[]> {
  const table = await service.load(request);
  const out: ReadBack[] = [];
  for (const column of table.columns) {
    const { buffer } = await service.readColumn(table.tableId, column.name);
    const words = new Uint32Array(buffer);
    const validity = await service.readValidity(table.tableId, column.name);
    out.push({
      name: column.name,
      encoding: column.encoding,
      components: column.components,
      words: Array.from(words),
      validity: validity ? Array.from(new Uint32Array(validity)) : null,
      dictionary: null,
    });
  }
  await service.destroyTable(table.tableId);
  return out;
}

describe('LoaderService on Dawn: sources other than a URL', () => {
  it('bytes, a Blob and a stream give the columns of the URL load, each equal to the source row by row', async () => {
    const file = encodeDataset(SPEC);
    const stream = encodeDataset({ ...SPEC, format: 'stream' });
    const service = serviceOf(file, dawnGpu());
    await service.init({ upload: 'staging' });
    const sources: Array<[string, SourceSpec | undefined]> = [
      ['url', undefined],
      ['bytes', { kind: 'bytes', bytes: file.slice() }],
      ['blob', { kind: 'blob', blob: new Blob([file.slice()]) }],
      ['stream', { kind: 'stream', stream: byteStream(cutAt(stream, [1, 333, 8191])), bytesTotal: null }],
    ];
    const expected = tableFromIPC(file);
    const reads: ReadBack[][] = [];
    for (const [name, source] of sources) {
      const columns = await readBack(service, {
        loadId: reads.length + 1,
        url: name,
        ...(source ? { source } : {}),
      });
      expect(columns.map((c) => c.name)).toEqual(['x', 'y', 'id', 'kind']);
      for (const column of columns)
        expect(mismatches(expected, column), `${name}: ${column.name}`).toEqual([]);
      reads.push(columns);
    }
    for (const read of reads.slice(1)) expect(read).toEqual(reads[0]);
    await service.trim();
    expect((await service.memory()).liveBuffers).toBe(0);
    await service.close();
  });

  it('a stream of a footer-only file fails with INVALID_ARGUMENT, frees what it made, and is cancelled', async () => {
    const file = encodeDataset(SPEC);
    const service = serviceOf(file, dawnGpu());
    await service.init({ upload: 'staging' });
    const watched = watchedStream(cutAt(file, [4096]), { hang: true });
    const error = await errorOf(
      service.load({
        loadId: 1,
        url: 'stream',
        source: { kind: 'stream', stream: watched.stream, bytesTotal: null },
      }),
    );
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'source', url: 'stream' } });
    await until(() => watched.cancelled, 'the stream to be cancelled');
    await service.trim();
    expect((await service.memory()).liveBuffers).toBe(0);
    await service.close();
  });

  it('a load that fails before it opens its stream (no WebGPU) cancels the stream all the same', async () => {
    const service = serviceOf(new Uint8Array(0), undefined);
    const watched = watchedStream([new Uint8Array(8)], { hang: true });
    const error = await errorOf(
      service.load({
        loadId: 1,
        url: 'stream',
        source: { kind: 'stream', stream: watched.stream, bytesTotal: null },
      }),
    );
    expect(error).toMatchObject({ code: 'NO_WEBGPU' });
    await until(() => watched.cancelled, 'the stream to be cancelled');
    expect(watched.stream.locked).toBe(false);
  });

  it('a stream is not read past its end-of-stream marker: the load ends and the stream is cancelled', async () => {
    const stream = encodeDataset({ ...SPEC, format: 'stream' });
    const service = serviceOf(stream, dawnGpu());
    await service.init({ upload: 'staging' });
    const eos = stream.byteLength - 8;
    expect([...stream.subarray(eos)]).toEqual([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    // The messages up to the marker, then bytes a server might still send (never asked for), then no end.
    const chunks = [...cutAt(stream, [4096, eos - 100]), Uint8Array.of(1, 2, 3, 4)];
    const watched = watchedStream(chunks, { hang: true });
    const columns = await readBack(service, {
      loadId: 1,
      url: 'stream',
      source: { kind: 'stream', stream: watched.stream, bytesTotal: null },
    });
    const expected = tableFromIPC(stream);
    for (const column of columns) expect(mismatches(expected, column), column.name).toEqual([]);
    expect(watched.cancelled).toBe(true);
    expect(watched.handedOut, 'chunks handed out: all but the one after the marker').toBe(chunks.length - 1);
    await service.trim();
    expect((await service.memory()).liveBuffers).toBe(0);
    await service.close();
  });

  it('a cancel mid-stream rejects with ABORTED and cancels the stream', async () => {
    const stream = encodeDataset({ ...SPEC, format: 'stream' });
    const service = serviceOf(stream, dawnGpu());
    await service.init({ upload: 'writeBuffer' });
    const half = stream.subarray(0, stream.byteLength >> 1);
    const watched = watchedStream(cutAt(half, [2048]), { hang: true });
    const load = service.load({
      loadId: 7,
      url: 'stream',
      source: { kind: 'stream', stream: watched.stream, bytesTotal: null },
    });
    const chunks = Math.ceil(half.byteLength / 2048);
    await until(() => watched.handedOut === chunks, 'the first half to be read');
    service.cancel(7);
    expect(await errorOf(load)).toMatchObject({ code: 'ABORTED', details: { url: 'stream' } });
    await until(() => watched.cancelled, 'the stream to be cancelled');
    await service.trim();
    expect((await service.memory()).liveBuffers).toBe(0);
    await service.close();
  });
});
