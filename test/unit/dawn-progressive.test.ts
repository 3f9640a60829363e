import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import type { UploadedColumn } from '../../src/core/gpu/upload/table-uploader.js';
import { openPipeline, type PipelineInput } from '../../src/core/pipeline/load.js';
import { DecodePool } from '../../src/core/pipeline/pool/decode-pool.js';
import type { TableUpdate } from '../../src/core/pipeline/table-publisher.js';
import { TableStore } from '../../src/core/service/table-store.js';
import type { UploadStrategy } from '../../src/types.js';
import { tsxDecodeWorkers } from '../../workers/node-decode-workers.js';
import { encodeDataset, gated } from '../support/byte-sources.js';
import { type DeviceProbe, readBytes, until, withContext } from '../support/dawn.js';
import { destroyColumns, expectedColumns, expectSameColumns, readColumns } from '../support/gpu-columns.js';
import { groupEnds } from '../support/ipc-groups.js';

// A table being loaded (openPipeline): its rows grow batch by batch while the source waits for the next,
// on column buffers made once and never replaced, so that a bind group made on the first batch still
// reads every later one. Checked on Dawn against the source's values at each step.

const URL = 'test://progressive';
const NAMES = ['x', 'y', 'id', 'kind'];

const SPEC: DatasetSpec = {
  rows: 9000,
  batchRows: 1000,
  format: 'stream',
  columns: { x: 'f32', y: 'f64', id: 'i32', kind: 'u16' },
  nulls: { y: 0.2 },
};

/** Updates as they come (and when, `performance.now()`), with a way to wait for the one that makes `rows` rows visible. */
function updateLog() {
  const updates: TableUpdate[] = [];
  const heardAt: number[] = [];
  return {
    updates,
    heardAt,
    onUpdate: (update: TableUpdate) => {
      updates.push(update);
      heardAt.push(performance.now());
    },
    rows: () => updates[updates.length - 1]?.numRows ?? 0,
  };
}

/** The buffer of every chunk of every column (values and validity), by column name. */
function buffersOf(columns: readonly UploadedColumn[]): Map<string, GPUBuffer[]> {
  return new Map(
    columns.flatMap((c) => [
      [c.plan.name, c.values.map((chunk) => chunk.buffer)],
      [`validity of ${c.plan.name}`, (c.validity ?? []).map((chunk) => chunk.buffer)],
    ]),
  );
}

/** A compute pass over one bound buffer that copies its words out, so a bind group made once can be rerun. */
function copyKernel(device: GPUDevice, source: GPUBuffer, words: number) {
  const code = `
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&dst)) { dst[id.x] = src[id.x]; }
}`;
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
  });
  const out = device.createBuffer({
    size: words * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: source } },
      { binding: 1, resource: { buffer: out } },
    ],
  });
  return {
    out,
    group,
    run() {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.ceil(words / 64));
      pass.end();
      device.queue.submit([encoder.finish()]);
    },
  };
}

const isColumn = (label: string) => /^(validity of )?column /.test(label);

/** What describe must say of column `name` over the rows of `batches`, computed on the CPU (floats, f32). */
function cpuSummary(batches: readonly RecordBatch[], name: string) {
  let nullCount = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let absSum = 0;
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  for (const batch of batches) {
    const vector = batch.getChild(name);
    for (let i = 0; i < batch.numRows; i++) {
      const v = vector?.get(i) as number | null;
      if (v === null) {
        nullCount++;
        continue;
      }
      const f = Math.fround(v);
      [min, max, sum, absSum] = [Math.min(min, f), Math.max(max, f), sum + f, absSum + Math.abs(f)];
    }
  }
  // The README's bound on a float sum: (k + 6) · 2⁻²⁴ · Σ|v|, k rows a thread (1 here).
  return { rows, nullCount, count: rows - nullCount, min, max, sum, tolerance: 7 * 2 ** -24 * absSum };
}

function columnBuffersDestroyed(probe: DeviceProbe): string[] {
  return probe.buffers.filter((b) => isColumn(b.label) && b.destroyed).map((b) => b.label);
}

function input(
  context: GpuContext,
  source: AsyncIterable<Uint8Array>,
  more: Partial<PipelineInput>,
): PipelineInput {
  return {
    gpu: context,
    source,
    url: URL,
    bytesTotal: null,
    upload: 'staging',
    chunkBytes: 16 << 10,
    ...more,
  };
}

describe('a table being loaded, on Dawn', () => {
  const bytes = encodeDataset(SPEC);
  const batches = [...batchesOf(SPEC)];
  const ends = groupEnds(bytes);

  for (const upload of ['staging', 'writeBuffer'] as UploadStrategy[]) {
    for (const length of ['Content-Length', 'no length'] as const) {
      it(`${upload}, ${length}: rows grow batch by batch on buffers never replaced, and a bind group made on the first batch reads the later ones`, async () => {
        await withContext(async (context, probe) => {
          const gate = gated(bytes, ends);
          const log = updateLog();
          const bytesTotal = length === 'Content-Length' ? bytes.byteLength : null;
          const { table, done } = await openPipeline(
            input(context, gate.source, { upload, bytesTotal, onUpdate: log.onUpdate }),
          );
          const store = new TableStore();
          const { tableId } = store.add(table, context);
          // Open as soon as the schema came: no batch was sent yet.
          expect([table.numRows, gate.state.handedOut]).toEqual([0, 1]);
          let seen = new Map<string, GPUBuffer[]>();
          let kernel: ReturnType<typeof copyKernel> | null = null;
          const releasedAt: number[] = [];
          for (let k = 0; k < batches.length; k++) {
            releasedAt.push(performance.now());
            gate.release();
            const rows = (k + 1) * SPEC.batchRows;
            await until(() => log.rows() >= rows, `batch ${k} to land`);
            expect(table.numRows, `rows after batch ${k}`).toBe(rows);
            expect(gate.state.handedOut, 'pieces sent').toBe(k + 2);
            // Every buffer seen before is still the one there, in the same place.
            const now = buffersOf(table.columns);
            for (const [name, buffers] of seen)
              expect(now.get(name)?.slice(0, buffers.length), name).toEqual(buffers);
            seen = now;
            expect(columnBuffersDestroyed(probe)).toEqual([]);
            const images = await readColumns(context.device, context.tracker, rows, table.columns);
            expectSameColumns(images, expectedColumns(batches.slice(0, k + 1), NAMES));
            // One bind group over the first chunk of x, made at the first batch and rerun at each.
            const first = table.columns[0]?.values[0];
            if (!first) throw new Error('x has no chunk');
            kernel ??= copyKernel(context.device, first.buffer, first.buffer.size / 4);
            kernel.run();
            const copied = await readBytes(context.device, context.tracker, kernel.out, first.byteLength);
            expect(
              Buffer.compare(
                Buffer.from(copied),
                Buffer.from(images.get('x')?.values.subarray(0, first.byteLength) ?? []),
              ),
            ).toBe(0);
            // Queries cover the rows landed so far, and say how many (at a few steps: kernels are slow here).
            for (const name of k % 4 === 0 ? ['x', 'y'] : []) {
              const want = cpuSummary(batches.slice(0, k + 1), name);
              const got = await store.describe(tableId, name);
              const exact = [got.rows, got.count, got.nullCount, got.min, got.max];
              expect(exact, `${name} after batch ${k}`).toEqual([
                want.rows,
                want.count,
                want.nullCount,
                want.min,
                want.max,
              ]);
              expect(Math.abs((got.sum as number) - want.sum)).toBeLessThanOrEqual(want.tolerance);
            }
          }
          gate.release(); // the end-of-stream marker
          const loaded = await done;
          expect(loaded).toBe(table);
          expect(table.live?.ended).toBe(true);
          expect(log.updates.flatMap((u) => u.batches.map((b) => b.batch))).toEqual(batches.map((_, k) => k));
          expect(log.updates.map((u) => u.seq)).toEqual(log.updates.map((_, i) => i + 1));
          // Each batch's time from its last byte read to its rows published lies within what the test
          // saw from outside: its bytes were not handed out before their release, and it was heard after.
          log.updates.forEach((u, i) => {
            for (const { batch, msFromLastByte, msOnGpu } of u.batches) {
              const outside = (log.heardAt[i] as number) - (releasedAt[batch] as number);
              expect(msFromLastByte, `batch ${batch}`).toBeGreaterThanOrEqual(0);
              expect(msFromLastByte, `batch ${batch}`).toBeLessThanOrEqual(outside);
              // The GPU's share is part of it: its write was submitted after its last byte was read.
              expect(msOnGpu, `batch ${batch}`).toBeGreaterThanOrEqual(0);
              expect(msOnGpu, `batch ${batch}`).toBeLessThanOrEqual(msFromLastByte);
            }
          });
          expect(table.columns[0]?.values.length, 'chunks of x').toBeGreaterThan(1);
          kernel?.out.destroy();
          store.destroy(tableId);
        });
      });
    }
  }

  it('a load cancelled or failing mid-way destroys every buffer, and its table says why', async () => {
    // 1000-row batches of f32 under a 12 KiB cap: the 4th batch is over it.
    await withContext(
      async (context, probe) => {
        const columnBuffers = () => probe.live().filter((b) => isColumn(b.label)).length;
        for (const how of ['cancel', 'cap'] as const) {
          const gate = gated(bytes, ends);
          const log = updateLog();
          const { table, done } = await openPipeline(
            input(context, gate.source, { onUpdate: log.onUpdate, columns: ['x'] }),
          );
          gate.release(2);
          await until(() => log.rows() >= 2000, 'two batches to land');
          expect(columnBuffers()).toBeGreaterThan(0);
          if (how === 'cancel') void table.live?.cancel();
          else gate.release(2);
          const error = await done.then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(ArrowGpuError);
          expect((error as ArrowGpuError).code).toBe(how === 'cancel' ? 'ABORTED' : 'LIMIT_EXCEEDED');
          expect(table.live?.failure).toBe(error);
          expect(columnBuffers(), `column buffers left after ${how}`).toBe(0);
          expect(table.numRows, 'rows stay what they were').toBe(2000);
        }
      },
      { maxBufferBytes: 12 << 10 },
    );
  });
});

describe('a table being loaded, with decode workers by default', () => {
  it('is handed out at its schema, before any batch was sent; its batches decode on this thread', async () => {
    const pool = new DecodePool(tsxDecodeWorkers(2).spawn, true);
    try {
      await withContext(async (context) => {
        const bytes = encodeDataset(SPEC);
        const gate = gated(bytes, groupEnds(bytes));
        // Any first batch is large enough for the workers: only a table read as it fills decodes here.
        const decode = { pool, workers: 2, minBatchBytes: 1 };
        const { table, done } = await openPipeline(input(context, gate.source, { decode }));
        expect([table.numRows, gate.state.handedOut]).toEqual([0, 1]);
        gate.release(groupEnds(bytes).length + 1);
        const loaded = await done;
        expect(loaded.numRows).toBe(SPEC.rows);
        expect(loaded.stats.decodeWorkers).toBe(0);
        const images = await readColumns(context.device, context.tracker, loaded.numRows, loaded.columns);
        expectSameColumns(images, expectedColumns([...batchesOf(SPEC)], NAMES));
        destroyColumns(context.tracker, loaded.columns);
      });
    } finally {
      pool.terminate();
    }
  });
});
