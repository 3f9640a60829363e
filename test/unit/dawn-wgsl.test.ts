import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { GpuTable } from '../../src/client/gpu-table.js';
import { WorkerGuard } from '../../src/client/worker-guard.js';
import { DictionaryEncoder } from '../../src/core/columns/encoders/dictionary-encoder.js';
import type { EncodingRequest } from '../../src/core/columns/encoding.js';
import { tableWgsl } from '../../src/core/columns/wgsl/table-wgsl.js';
import { ArgumentError, ColumnError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import type { UploadedColumn } from '../../src/core/gpu/upload/table-uploader.js';
import { type LoadedTable, runPipeline } from '../../src/core/pipeline/load.js';
import { LoaderService } from '../../src/core/service/loader-service.js';
import { type LoaderWorkerApi, registerErrorTransfer } from '../../src/protocol.js';
import { loaderApi } from '../../workers/expose-loader.js';
import { tailOf, whole } from '../support/byte-sources.js';
import { type BoundBuffer, runCompute } from '../support/compute.js';
import { dawnGpu, withContext } from '../support/dawn.js';
import { everyTypeTable } from '../support/every-type.js';
import { destroyColumns } from '../support/gpu-columns.js';
import { moreTypesTable } from '../support/more-types.js';
import { CHECKSUMS, checksumKernel, expectedChecksums, sourceRows } from '../support/wgsl-checksum.js';

// Tables of every encoding loaded through runPipeline on Dawn, then read by compute shaders built from
// the generated WGSL alone: each column's checksums on the GPU must equal those computed from the
// source values. Small chunks make every column span three buffers, so every accessor branches.

const URL = 'test://wgsl';
/** Every encoding from the every-type table: f64 kept exact, two columns asked for the lossy 64-bit forms. */
const EVERY_ENCODING = { f64: 'f64', 'point.lat': 'f32x2', ts: 'f32-relative' } as const;

async function load(
  context: GpuContext,
  table: Table,
  encodings: EncodingRequest,
  chunkBytes?: number,
): Promise<LoadedTable> {
  const bytes = tableToIPC(table, 'stream');
  return runPipeline({
    gpu: context,
    source: whole(bytes),
    readTail: tailOf(bytes),
    url: URL,
    bytesTotal: bytes.byteLength,
    encodings,
    chunkBytes,
    upload: 'staging',
  });
}

/** The chunk buffer a binding names. */
function bufferOf(column: UploadedColumn, kind: 'values' | 'validity', chunk: number): GPUBuffer {
  const chunks = kind === 'values' ? column.values : (column.validity ?? []);
  return (chunks[chunk] as { buffer: GPUBuffer }).buffer;
}

/** Each column's checksums, GPU against CPU, as `name (encoding): what differs`; empty when all agree. */
async function checksumDifferences(
  context: GpuContext,
  source: Table,
  loaded: LoadedTable,
): Promise<string[]> {
  const differences: string[] = [];
  for (const column of loaded.columns) {
    const { plan } = column;
    // The checksum buffer takes binding 0; the column's buffers follow.
    const generated = tableWgsl([column], { firstBinding: 1 });
    const inputs: BoundBuffer[] = generated.bindings.map((b) => ({
      group: b.group,
      binding: b.binding,
      buffer: bufferOf(column, b.kind, b.chunk),
    }));
    const kernel = checksumKernel(generated, plan, loaded.numRows);
    const out = { group: 0, binding: 0, words: CHECKSUMS.length };
    const got = [...(await runCompute(context.device, kernel, inputs, out))];
    const dictionary = column.encoder instanceof DictionaryEncoder ? column.encoder.values() : [];
    const extras = { offset: column.extras.offset, dictionary };
    const expected = expectedChecksums(plan, sourceRows(source, plan.name), extras);
    const wrong = CHECKSUMS.filter((_, i) => got[i] !== expected[i]);
    if (wrong.length > 0) {
      differences.push(
        `${plan.name} (${plan.encoding}): ${wrong.join(', ')}: GPU ${got}, source ${expected}`,
      );
    }
    // The uploader's null count agrees with what the shader saw.
    const valid = plan.encoding === 'null' ? 0 : loaded.numRows - column.nullCount;
    if (got[0] !== valid) differences.push(`${plan.name}: ${got[0]} valid rows, ${valid} by its null count`);
  }
  return differences;
}

describe('generated WGSL reads every encoding on Dawn as the source holds it', () => {
  const tables = [
    {
      name: 'every type',
      table: () => everyTypeTable('stream'),
      encodings: EVERY_ENCODING,
      chunkBytes: 1536,
    },
    { name: 'more shapes', table: () => moreTypesTable(), encodings: 'exact', chunkBytes: 3072 },
  ] as const;

  for (const { name, table, encodings, chunkBytes } of tables) {
    it(`${name}: two buffers a column (first batch, rest), then three chunks a column (chunkBytes ${chunkBytes})`, async () => {
      const source = table();
      await withContext(async (context) => {
        for (const bytes of [undefined, chunkBytes]) {
          const loaded = await load(context, source, encodings, bytes);
          try {
            const chunkCounts = loaded.columns
              .filter((c) => c.plan.encoding !== 'null')
              .map((c) => c.values.length);
            // Unbounded: the first batch's rows in a chunk of their own (so they land before the rest is
            // made), the other rows in one more.
            expect(new Set(chunkCounts)).toEqual(new Set([bytes === undefined ? 2 : 3]));
            expect(await checksumDifferences(context, source, loaded)).toEqual([]);
          } finally {
            destroyColumns(context.tracker, loaded.columns);
          }
        }
      });
    });
  }

  it('covers every encoding', async () => {
    await withContext(async (context) => {
      const encodings = new Set<string>();
      for (const [table, request] of [
        [everyTypeTable('stream'), EVERY_ENCODING],
        [moreTypesTable(), 'exact'],
      ] as const) {
        const loaded = await load(context, table, request);
        for (const column of loaded.columns) encodings.add(column.plan.encoding);
        destroyColumns(context.tracker, loaded.columns);
      }
      const all = ['f32', 'i32', 'u32', 'bool', 'i64', 'u64', 'f64', 'f32x2', 'f32-relative', 'decimal'];
      all.push('dictionary', 'bytes', 'vector', 'interval', 'null');
      expect([...encodings].sort()).toEqual(all.sort());
    });
  });
});

/** The README's WGSL block: the shader that sums the `fare` column. */
function readmeSumShader(): string {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## WGSL for shader authors'));
  const match = /```wgsl\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('no ```wgsl block in the README section "WGSL for shader authors"');
  return match[1];
}

describe("the README's example", () => {
  it('sums a chunked f32 column with nulls, in f32, exactly as the same additions on the CPU', async () => {
    const rows = 1000;
    const fares = Array.from({ length: rows }, (_, i) =>
      i % 9 === 4 ? null : Math.fround(((i * 37) % 101) + i / 64),
    );
    const table = new Table({ fare: vectorFromArray(fares, new Float32()) });
    await withContext(async (context) => {
      const loaded = await load(context, table, 'auto', 1536);
      try {
        const fare = loaded.columns[0] as UploadedColumn;
        expect(fare.values.length).toBe(3);
        const { code, bindings } = tableWgsl([fare]);
        const inputs = bindings.map((b) => ({ ...b, buffer: bufferOf(fare, b.kind, b.chunk) }));
        const out = { group: 1, binding: 0, words: 1 };
        const [bits] = await runCompute(context.device, code + readmeSumShader(), inputs, out, { rows });
        expect(new Float32Array(new Uint32Array([bits as number]).buffer)[0]).toBe(sumLikeTheShader(fares));
      } finally {
        destroyColumns(context.tracker, loaded.columns);
      }
    });
  });
});

/** The README shader's additions in its order: 256 strided partial sums in f32, then a tree. */
function sumLikeTheShader(values: readonly (number | null)[]): number {
  const partial = Array.from({ length: 256 }, (_, i) => {
    let sum = 0;
    for (let row = i; row < values.length; row += 256) sum = Math.fround(sum + (values[row] ?? 0));
    return sum;
  });
  for (let step = 128; step > 0; step >>= 1) {
    for (let i = 0; i < step; i++)
      partial[i] = Math.fround((partial[i] as number) + (partial[i + step] as number));
  }
  return partial[0] as number;
}

describe('GpuTable.wgsl through Comlink to a LoaderService on Dawn', () => {
  it('returns code and bindings for the chosen columns; refuses unknown columns, bad options and destroyed tables', async () => {
    const bytes = tableToIPC(everyTypeTable('stream'), 'stream');
    const service = new LoaderService(dawnGpu(), async () => ({
      body: whole(bytes),
      bytesTotal: bytes.byteLength,
      readTail: tailOf(bytes),
    }));
    const { port1, port2 } = new MessageChannel();
    try {
      await service.init({ upload: 'staging', chunkBytes: 1536 });
      const snapshot = await service.load({ loadId: 1, url: URL, encodings: EVERY_ENCODING });
      registerErrorTransfer();
      Comlink.expose(loaderApi(service), port1 as unknown as Comlink.Endpoint);
      const remote = Comlink.wrap<LoaderWorkerApi>(port2 as unknown as Comlink.Endpoint);
      const table = new GpuTable(snapshot, remote, new WorkerGuard(new EventTarget() as Worker));

      const all = await table.wgsl();
      expect(all.columns.map((c) => c.name)).toEqual(snapshot.columns.map((c) => c.name));
      for (const info of snapshot.columns) {
        const ranges = all.bindings.filter((b) => b.column === info.name && b.kind === 'values');
        expect(
          ranges.map(({ rowOffset, rows }) => ({ rowOffset, rows })),
          info.name,
        ).toEqual(
          info.encoding === 'null' ? [] : info.chunks.map(({ rowOffset, rows }) => ({ rowOffset, rows })),
        );
      }

      const point = await table.wgsl(['point', 'f32'], { group: 1, firstBinding: 4 });
      expect(point.columns.map((c) => [c.name, c.identifier])).toEqual([
        ['point.lat', 'point_lat'],
        ['point.n', 'point_n'],
        ['f32', 'f32'],
      ]);
      expect(point.bindings[0]).toMatchObject({
        group: 1,
        binding: 4,
        column: 'point.lat',
        chunk: 0,
        rowOffset: 0,
      });
      expect(point.code).toContain('fn point_lat_value(row: u32) -> vec2<f32>');

      const unknown = await table.wgsl(['f32', 'nope']).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(ColumnError);
      expect((unknown as ColumnError).code).toBe('NO_SUCH_COLUMN');
      const badGroup = await table.wgsl(undefined, { group: -1 }).catch((e: unknown) => e);
      expect(badGroup).toBeInstanceOf(ArgumentError);
      const badNames = await table.wgsl('f32' as never).catch((e: unknown) => e);
      expect((badNames as ArgumentError).details.option).toBe('names');
      await table.destroy();
      const destroyed = await table.wgsl().catch((e: unknown) => e);
      expect((destroyed as ColumnError).code).toBe('NO_SUCH_COLUMN');
    } finally {
      port1.close();
      port2.close();
      await service.close();
    }
  });
});
