import { describe, expect, it } from 'vitest';
import type { DatasetSpec } from '../../scripts/datasets.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { LoaderService } from '../../src/core/service/loader-service.js';
import type { ByteSource } from '../../src/core/source/byte-source.js';
import type { UploadStrategy } from '../../src/types.js';
import { tsxDecodeWorkers } from '../../workers/node-decode-workers.js';
import { encodeDataset, tailOf, trickle, whole } from '../support/byte-sources.js';
import { DeviceProbe, dawnGpu, until } from '../support/dawn.js';

// LoaderService on Dawn: a device lost in the middle of a load.

const SPEC: DatasetSpec = {
  rows: 8000,
  batchRows: 400,
  format: 'stream',
  columns: { x: 'f32', y: 'f64', id: 'i32' },
  nulls: { y: 0.2 },
};
const URL = 'test://service';

describe('LoaderService on Dawn: device loss', () => {
  for (const upload of ['staging', 'writeBuffer'] as const satisfies readonly UploadStrategy[]) {
    it(`${upload}: a device destroyed mid-load rejects with DEVICE_LOST, destroys every buffer and closes the request`, async () => {
      const bytes = encodeDataset(SPEC);
      const lost: { context: GpuContext | null; probe: DeviceProbe | null; uploadCallsBefore: number } = {
        context: null,
        probe: null,
        uploadCallsBefore: -1,
      };
      // A third of the way through the bytes, once batches have gone to the GPU, the device goes.
      const onChunk = (chunk: number) => {
        const { context, probe } = lost;
        if (chunk !== 12 || !context || !probe) return;
        lost.uploadCallsBefore = probe.submits + probe.writes;
        context.device.destroy();
      };
      const slow = trickle(bytes, { chunkSize: Math.ceil(bytes.byteLength / 36), delayMs: 2, onChunk });
      const requests: AbortSignal[] = [];
      const sources = [slow.source, whole(bytes)];
      const service = new LoaderService(dawnGpu(), async (_url, signal): Promise<ByteSource> => {
        requests.push(signal);
        const body = sources.shift() as AsyncGenerator<Uint8Array>;
        return { body, bytesTotal: bytes.byteLength, readTail: tailOf(bytes) };
      });
      await service.init({ upload });
      const context = await service.devices.current();
      const probe = new DeviceProbe(context.device);
      Object.assign(lost, { context, probe });

      const error = await service.load({ loadId: 1, url: URL }).then(
        () => new Error('the load succeeded'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ArrowGpuError);
      expect((error as ArrowGpuError).code, (error as Error).message).toBe('DEVICE_LOST');
      expect(lost.uploadCallsBefore, 'GPU calls of the load before the device went').toBeGreaterThan(0);
      expect(requests[0]?.aborted, 'the request closed').toBe(true);
      await until(() => slow.state.closed, 'the source to be closed');
      expect(context.tracker.count).toBe(0);
      expect(probe.live().map((b) => b.label)).toEqual([]);
      expect((await service.memory()).liveBuffers).toBe(0);

      // The next load opens a fresh device; trimming leaves only the table's buffers: a buffer a chunk of
      // each of the 3 columns, and of the 1 with nulls its validity.
      const table = await service.load({ loadId: 2, url: URL });
      expect(table.numRows).toBe(SPEC.rows);
      expect(await service.devices.current()).not.toBe(context);
      await service.trim();
      const chunks = table.columns.map((c) => c.chunks.length * (c.nullCount > 0 ? 2 : 1));
      expect(table.columns.map((c) => c.nullCount > 0)).toEqual([false, true, false]);
      expect(await service.memory()).toMatchObject({
        liveBuffers: chunks.reduce((n, k) => n + k, 0),
        stagingInFlight: 0,
      });
      await service.destroyTable(table.tableId);
      expect((await service.memory()).liveBuffers).toBe(0);
      await service.close();
      expect((await service.memory()).liveBuffers).toBe(0);
    });
  }

  it('a read that races the destroy of its table fails alone; a load in flight is untouched', async () => {
    const bytes = encodeDataset(SPEC);
    const slow = trickle(bytes, { chunkSize: 4096, delayMs: 2 });
    const sources = [whole(bytes), slow.source];
    const service = new LoaderService(dawnGpu(), async (): Promise<ByteSource> => {
      const body = sources.shift() as AsyncGenerator<Uint8Array>;
      return { body, bytesTotal: bytes.byteLength, readTail: tailOf(bytes) };
    });
    await service.init({ upload: 'staging' });
    const first = await service.load({ loadId: 1, url: URL });
    const second = service.load({ loadId: 2, url: URL });
    await until(() => slow.state.chunks > 3, 'the second load to be under way');
    const read = service.readColumn(first.tableId, 'x');
    await service.destroyTable(first.tableId);
    const error = await read.then(
      () => new Error('the read succeeded'),
      (e: unknown) => e,
    );
    expect((error as ArrowGpuError).code, (error as Error).message).toBe('NO_SUCH_COLUMN');
    const table = await second;
    expect(table.numRows).toBe(SPEC.rows);
    await service.close();
  });
});

describe('LoaderService on Dawn: decode workers by default only for record batches worth sending out', () => {
  const small: DatasetSpec = {
    rows: 4000,
    batchRows: 400,
    format: 'stream',
    columns: { x: 'f32', y: 'f64' },
  };
  // Batches of 12 bytes a row: 4.8 KB each in `small`, far under MIN_POOLED_BATCH_BYTES; one of 3.6 MB in
  // `large`, over it.
  const large: DatasetSpec = { ...small, rows: 300_000, batchRows: 300_000 };

  /** A service whose loads read `bytes`, with `count` decode workers by default; `spawned` counts those started. */
  function serviceOf(
    bytes: Map<string, Uint8Array>,
    count = 2,
  ): { service: LoaderService; spawned: () => number } {
    const workers = tsxDecodeWorkers(count);
    let spawned = 0;
    const spawn = () => {
      spawned++;
      return workers.spawn();
    };
    const service = new LoaderService(
      dawnGpu(),
      async (url): Promise<ByteSource> => {
        const b = bytes.get(url) as Uint8Array;
        return { body: whole(b), bytesTotal: b.byteLength, readTail: tailOf(b) };
      },
      { decodeWorkers: { ...workers, spawn } },
    );
    return { service, spawned: () => spawned };
  }

  it('init loads its warm-up tables, the one of about 2 MiB included, and leaves no buffer on the device', async () => {
    const { service } = serviceOf(new Map());
    try {
      await service.init({ upload: 'staging' });
      const context = await service.devices.current();
      const made: { size: number; usage: number }[] = [];
      const probe = new DeviceProbe(context.device);
      const create = context.device.createBuffer.bind(context.device);
      context.device.createBuffer = (descriptor) => {
        made.push({ size: descriptor.size, usage: descriptor.usage });
        return create(descriptor);
      };
      // Again on a device already open: the buffers the warm-up loads make, seen from here.
      await service.init({ upload: 'staging' });
      const columns = made.filter((b) => b.usage & GPUBufferUsage.STORAGE && b.size === (1 << 17) * 4);
      expect(columns.length, 'the 2 MiB table’s four columns of 2^17 words').toBe(4);
      const staging = made.filter((b) => b.usage & GPUBufferUsage.MAP_WRITE);
      expect(Math.max(...staging.map((b) => b.size)), 'a staging buffer its batch fits in').toBeGreaterThan(
        2 << 20,
      );
      expect(context.tracker.count, 'every buffer of the warm-up gone, staging included').toBe(0);
      expect(probe.live().map((b) => b.label)).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('init starts the default decode workers (a warm-up load through them); none with fewer than 2', async () => {
    const bytes = new Map([['test://large', encodeDataset(large)]]);
    const two = serviceOf(bytes);
    const one = serviceOf(bytes, 1);
    try {
      await two.service.init({ upload: 'staging' });
      await one.service.init({ upload: 'staging' });
      expect(two.spawned(), 'started by init').toBe(2);
      expect(one.spawned()).toBe(0);
      const table = await two.service.load({ loadId: 1, url: 'test://large' });
      expect(table.stats.decodeWorkers).toBe(2);
      expect(two.spawned(), 'the first large load found them started').toBe(2);
      await two.service.destroyTable(table.tableId);
    } finally {
      await two.service.close();
      await one.service.close();
    }
  });

  it('by default: small batches decode on the loader, large ones on the workers; asked for, always the workers', async () => {
    const bytes = new Map([
      ['test://small', encodeDataset(small)],
      ['test://large', encodeDataset(large)],
    ]);
    const byDefault = serviceOf(bytes).service;
    const askedFor = serviceOf(bytes);
    const asked = askedFor.service;
    try {
      await byDefault.init({ upload: 'staging' });
      await asked.init({ upload: 'staging', decodeWorkers: 2 });
      expect(askedFor.spawned(), 'the two asked for, started by init').toBe(2);
      const workers = async (service: LoaderService, url: string, decodeWorkers?: number) => {
        const table = await service.load({ loadId: Math.random(), url, decodeWorkers });
        expect(table.numRows).toBe(url.endsWith('small') ? small.rows : large.rows);
        await service.destroyTable(table.tableId);
        return table.stats.decodeWorkers;
      };
      expect(await workers(byDefault, 'test://small'), 'default, small batches').toBe(0);
      expect(await workers(byDefault, 'test://large'), 'default, large batches').toBe(2);
      expect(await workers(byDefault, 'test://small', 2), 'asked for by the load').toBe(2);
      expect(await workers(asked, 'test://small'), 'asked for by createLoader').toBe(2);
      expect(await workers(asked, 'test://small', 0), 'none asked for by the load').toBe(0);
    } finally {
      await byDefault.close();
      await asked.close();
    }
  });
});
