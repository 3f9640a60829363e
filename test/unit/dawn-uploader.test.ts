import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';
import { checkBatch } from '../../src/core/columns/check-batch.js';
import { planColumns } from '../../src/core/columns/type-plan.js';
import { BufferTracker } from '../../src/core/gpu/buffer-tracker.js';
import { GpuErrorWatch } from '../../src/core/gpu/error-scope.js';
import { StagingRing } from '../../src/core/gpu/upload/staging-ring.js';
import { StagingTransport } from '../../src/core/gpu/upload/staging-transport.js';
import { TableUploader } from '../../src/core/gpu/upload/table-uploader.js';
import type { UploadTransport } from '../../src/core/gpu/upload/transport.js';
import { WriteBufferTransport } from '../../src/core/gpu/upload/write-buffer-transport.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { encodeDataset, whole } from '../support/byte-sources.js';
import { withDevice } from '../support/dawn.js';
import { destroyColumns, expectedColumns, expectSameColumns, readColumns } from '../support/gpu-columns.js';

// TableUploader on Dawn with both transports: what reaches the GPU is read back and compared byte for byte
// with values computed row by row from the generated source.

const SPEC: DatasetSpec = {
  rows: 1237,
  batchRows: 97, // odd: batches start anywhere in a validity word
  format: 'stream',
  columns: {
    f32: 'f32',
    f64: 'f64',
    i8: 'i8',
    i16: 'i16',
    i32: 'i32',
    u8: 'u8',
    u16: 'u16',
    u32: 'u32',
    text: 'utf8',
  },
  // Nulls everywhere (f64, i8), everywhere but rare (u16), all rows (i16), and first seen in a later batch (u32).
  nulls: { f64: 0.3, i8: 0.5, u16: 0.05, i16: 1, u32: 0.004 },
  seed: 7,
};
const NUMERIC = Object.keys(SPEC.columns).filter((name) => name !== 'text');
const URL = 'test://uploader';

async function decodedBatches(spec: DatasetSpec): Promise<RecordBatch[]> {
  const bytes = encodeDataset(spec);
  const stream = await openBatchStream(new IpcFramer(whole(bytes), URL), URL);
  const batches: RecordBatch[] = [];
  for await (const decoded of stream.batches) batches.push(decoded.batch);
  return batches;
}

/** Cuts each batch into three slices (13 rows, then the rest halved), whose columns start at a row offset. */
function sliced(batches: readonly RecordBatch[]): RecordBatch[] {
  return batches.flatMap((batch) => {
    const half = 13 + Math.floor((batch.numRows - 13) / 2);
    return [batch.slice(0, 13), batch.slice(13, half), batch.slice(half)];
  });
}

type Strategy = 'staging' | 'writeBuffer';

/** A transport whose chunks are tiny, so that every batch is split by rows, mid-word in the validity. */
class SmallChunkStaging extends StagingTransport {
  override readonly maxChunkBytes = 1500;
}
class SmallChunkWriteBuffer extends WriteBufferTransport {
  override readonly maxChunkBytes = 1500;
}

function transportFor(
  strategy: Strategy,
  device: GPUDevice,
  ring: StagingRing,
  watch: GpuErrorWatch,
  small: boolean,
): UploadTransport {
  if (strategy === 'writeBuffer')
    return small ? new SmallChunkWriteBuffer(device) : new WriteBufferTransport(device);
  const Staging = small ? SmallChunkStaging : StagingTransport;
  return new Staging(device, ring, watch);
}

interface Case {
  strategy: Strategy;
  batches: RecordBatch[];
  /** The uploader's guess of the final rows (0: none), which sizes buffers ahead. */
  expectedRows: number;
  smallChunks: boolean;
  /** Called after each batch is appended: the uploader, that batch and the next (if any). */
  afterBatch?: (uploader: TableUploader, batch: RecordBatch, next: RecordBatch | undefined) => void;
}

/** Uploads `batches` on a fresh device, flushing every third batch, and compares the GPU with the source. */
async function uploadAndCompare(test: Case): Promise<void> {
  const { strategy, batches, expectedRows, smallChunks, afterBatch } = test;
  await withDevice(async (device) => {
    const tracker = new BufferTracker(device);
    const ring = new StagingRing(device, tracker);
    const watch = new GpuErrorWatch(device);
    const transport = transportFor(strategy, device, ring, watch, smallChunks);
    const { plans } = planColumns((batches[0] as RecordBatch).schema, { columns: NUMERIC }, URL);
    const uploader = new TableUploader(device, tracker, transport, watch, plans, {
      expectedRows: () => expectedRows,
    });
    for (const [i, batch] of batches.entries()) {
      checkBatch(batch, plans, { url: URL, batch: i, byteOffset: 0 }); // as the pipeline does first
      await uploader.append(batch);
      afterBatch?.(uploader, batch, batches[i + 1]);
      if (i % 3 === 2) transport.flush();
    }
    await transport.finish();
    await watch.settle();
    expect(uploader.rows).toBe(SPEC.rows);
    await expectSourceAndDestroy(device, tracker, ring, uploader);
  });
}

/** Reads every column back and compares it with the source; then destroys the columns and the ring. */
async function expectSourceAndDestroy(
  device: GPUDevice,
  tracker: BufferTracker,
  ring: StagingRing,
  uploader: TableUploader,
): Promise<void> {
  const columns = uploader.columns();
  const actual = await readColumns(device, tracker, uploader.rows, columns);
  expectSameColumns(actual, expectedColumns([...batchesOf(SPEC)], NUMERIC));
  destroyColumns(tracker, columns);
  ring.destroy();
  expect(tracker.count).toBe(0);
}

describe('TableUploader on Dawn: every column and validity bitmap read back equals the source', () => {
  it('the data set has what the cases rely on', async () => {
    const batches = await decodedBatches(SPEC);
    expect(batches.length).toBe(Math.ceil(SPEC.rows / SPEC.batchRows));
    const firstNull = batches.findIndex((b) => (b.getChild('u32')?.nullCount ?? 0) > 0);
    expect(firstNull, 'u32 gets its first null after the first batch').toBeGreaterThan(0);
    expect(batches.every((b) => b.getChild('i8')?.nullCount)).toBe(true);
  });

  for (const strategy of ['staging', 'writeBuffer'] as const) {
    it(`${strategy}: decoded batches`, async () => {
      await uploadAndCompare({
        strategy,
        batches: await decodedBatches(SPEC),
        expectedRows: 0,
        smallChunks: false,
      });
    });

    it(`${strategy}: decoded batches, buffers sized ahead from an estimate of the rows`, async () => {
      const batches = await decodedBatches(SPEC);
      await uploadAndCompare({ strategy, batches, expectedRows: SPEC.rows - 100, smallChunks: false });
    });

    it(`${strategy}: each batch split into chunks of a few rows`, async () => {
      await uploadAndCompare({
        strategy,
        batches: await decodedBatches(SPEC),
        expectedRows: 0,
        smallChunks: true,
      });
    });

    it(`${strategy}: growAhead after each batch, every batch finds its chunks laid out by the one before`, async () => {
      const batches = await decodedBatches(SPEC);
      const short: number[] = [];
      const roomAfter = (grow: boolean) => ({
        strategy,
        batches,
        expectedRows: 0,
        smallChunks: false,
        afterBatch: (uploader: TableUploader, batch: RecordBatch) => {
          if (grow) uploader.growAhead(batch.numRows);
          if (uploader.layout.capacity < uploader.rows + batch.numRows) short.push(uploader.rows);
        },
      });
      await uploadAndCompare(roomAfter(true));
      expect(short, 'rows after which one more such batch had no chunk laid out').toEqual([]);
      await uploadAndCompare(roomAfter(false)); // without: chunks are made when a batch needs them
      expect(short.length).toBeGreaterThan(0);
    });

    it(`${strategy}: sliced batches, whose columns start at a row offset`, async () => {
      const batches = sliced(await decodedBatches(SPEC));
      await uploadAndCompare({ strategy, batches, expectedRows: 0, smallChunks: false });
    });
  }
});

describe('TableUploader on Dawn: error scopes around the writes', () => {
  /** The uploader's error-scope depth at each `write` of a load of `strategy`, over its own depth at the start. */
  async function depthsAtWrites(strategy: Strategy): Promise<number[]> {
    const depths: number[] = [];
    await withDevice(async (device) => {
      let depth = 0;
      const push = device.pushErrorScope.bind(device);
      const pop = device.popErrorScope.bind(device);
      device.pushErrorScope = (filter) => {
        depth++;
        push(filter);
      };
      device.popErrorScope = () => {
        depth--;
        return pop();
      };
      const tracker = new BufferTracker(device);
      const ring = new StagingRing(device, tracker);
      const watch = new GpuErrorWatch(device);
      const transport = transportFor(strategy, device, ring, watch, true);
      const write = transport.write.bind(transport);
      transport.write = (...args) => {
        depths.push(depth);
        write(...args);
      };
      const batches = await decodedBatches(SPEC);
      const { plans } = planColumns((batches[0] as RecordBatch).schema, { columns: NUMERIC }, URL);
      const uploader = new TableUploader(device, tracker, transport, watch, plans);
      for (const batch of batches) await uploader.append(batch);
      await transport.finish();
      await watch.settle();
      destroyColumns(tracker, uploader.columns());
      ring.destroy();
    });
    return depths;
  }

  it('writeBuffer: every write runs in an out-of-memory and a validation scope', async () => {
    const depths = await depthsAtWrites('writeBuffer');
    expect(depths.length).toBeGreaterThan(SPEC.rows / 100);
    expect(new Set(depths)).toEqual(new Set([2]));
  });

  it('staging: writes only fill mapped memory, outside any scope (their copies are scoped when submitted)', async () => {
    const depths = await depthsAtWrites('staging');
    expect(depths.length).toBeGreaterThan(SPEC.rows / 100);
    expect(new Set(depths)).toEqual(new Set([0]));
  });
});

describe("TableUploader on Dawn: a batch's new chunks are written before the device has answered for them", () => {
  const COLUMN = /^column "/;

  /**
   * Holds back the device's answers about the column buffers made from now on (the error scopes around
   * their creation) until `release`; every other answer comes as usual.
   */
  function holdCreationAnswers(device: GPUDevice): { held: () => number; release: () => void } {
    const createBuffer = device.createBuffer.bind(device);
    const popErrorScope = device.popErrorScope.bind(device);
    let creationPops = 0;
    let held = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    device.createBuffer = (descriptor) => {
      // `withErrorScope` pops its two scopes right after the creation.
      if (COLUMN.test(descriptor.label ?? '')) creationPops = 2;
      return createBuffer(descriptor);
    };
    device.popErrorScope = () => {
      const answer = popErrorScope();
      if (creationPops === 0) return answer;
      creationPops--;
      held++;
      return gate.then(() => answer);
    };
    return { held: () => held, release };
  }

  /** An uploader of the numeric columns on `device`, with its transport, watch and the data set's batches. */
  async function uploaderOn(device: GPUDevice, strategy: Strategy) {
    const tracker = new BufferTracker(device);
    const ring = new StagingRing(device, tracker);
    const watch = new GpuErrorWatch(device);
    const transport = transportFor(strategy, device, ring, watch, false);
    const batches = await decodedBatches(SPEC);
    const { plans } = planColumns((batches[0] as RecordBatch).schema, { columns: NUMERIC }, URL);
    const uploader = new TableUploader(device, tracker, transport, watch, plans);
    return { tracker, ring, watch, transport, batches, uploader };
  }

  type Upload = Awaited<ReturnType<typeof uploaderOn>>;

  /** Appends the rest of the batches, reads every column back, compares it with the source, destroys it all. */
  async function finishAndCompare(device: GPUDevice, upload: Upload, from: number): Promise<void> {
    const { tracker, ring, watch, transport, batches, uploader } = upload;
    for (const batch of batches.slice(from)) await uploader.append(batch);
    await transport.finish();
    await watch.settle();
    await expectSourceAndDestroy(device, tracker, ring, uploader);
  }

  /** Resolves to `label`, or to a note that it took over 5 s (it waited for answers held back). */
  const within5s = (work: Promise<unknown>, label: string) =>
    Promise.race([
      work.then(() => label),
      new Promise((resolve) => setTimeout(() => resolve('waited for the answers held back'), 5000)),
    ]);

  /** Checks that the watch does not settle while `answers` are held, then releases them and lets it settle. */
  async function expectSettledOnceReleased(
    watch: GpuErrorWatch,
    answers: { release: () => void },
    what: string,
  ): Promise<void> {
    let settled = false;
    const settling = watch.settle().then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled, what).toBe(false);
    answers.release();
    await settling;
  }

  for (const strategy of ['staging', 'writeBuffer'] as const) {
    it(`${strategy}: every batch is appended while its chunks' creation is unanswered; the watch waits for the answers; the rows read back equal the source`, async () => {
      await withDevice(async (device) => {
        const answers = holdCreationAnswers(device);
        const upload = await uploaderOn(device, strategy);
        const { transport, batches, uploader } = upload;
        // No size is known: each batch that needs a chunk makes it, and writes into it at once.
        const appendAll = async () => {
          for (const batch of batches) await uploader.append(batch);
          transport.flush();
        };
        expect(await within5s(appendAll(), 'appended')).toBe('appended');
        expect(answers.held(), 'creation answers held back while the batches were appended').toBeGreaterThan(
          2,
        );
        await expectSettledOnceReleased(upload.watch, answers, 'the watch waits for the creation answers');
        await finishAndCompare(device, upload, batches.length);
      });
    });

    it(`${strategy}: rows wait for the answers about chunks they are written into, not about chunks made ahead`, async () => {
      await withDevice(async (device) => {
        const upload = await uploaderOn(device, strategy);
        const { watch, transport, batches, uploader } = upload;
        await uploader.append(batches[0] as RecordBatch); // its chunk: room for twice its rows
        transport.flush();
        await watch.settle();
        const answers = holdCreationAnswers(device);
        uploader.growAhead(uploader.layout.capacity); // a chunk ahead, past the rows of the next batch
        await uploader.append(batches[1] as RecordBatch);
        transport.flush();
        expect(answers.held(), 'answers about the chunk made ahead, held back').toBeGreaterThan(0);
        expect(await within5s(watch.settle(), 'settled')).toBe('settled');
        // Batches written into that chunk wait for its answer.
        for (const batch of batches.slice(2, 5)) await uploader.append(batch);
        transport.flush();
        expect(uploader.rows).toBeGreaterThan(uploader.layout.chunks[0]?.capacity ?? 0);
        await expectSettledOnceReleased(
          watch,
          answers,
          'the rows in the chunk made ahead wait for its answer',
        );
        await finishAndCompare(device, upload, 5);
      });
    });

    it(`${strategy}: a chunk the device refuses fails the upload with that refusal, not with the writes into it; nothing is left`, async () => {
      await withDevice(async (device, probe) => {
        const createBuffer = device.createBuffer.bind(device);
        let refused = false;
        device.createBuffer = (descriptor) => {
          if (refused || descriptor.label !== 'column "f64"') return createBuffer(descriptor);
          refused = true;
          // A usage Dawn rejects: the buffer is invalid, and so is every write into it.
          return createBuffer({ ...descriptor, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE });
        };
        const { tracker, ring, watch, transport, batches, uploader } = await uploaderOn(device, strategy);
        const failure = await (async () => {
          await uploader.append(batches[0] as RecordBatch);
          transport.flush(); // the staged copy into the refused buffer is submitted, and fails too
          await watch.settle();
        })().then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused).toBe(true);
        expect(failure).toMatchObject({ code: 'GPU_VALIDATION', details: { column: 'f64' } });
        expect((failure as Error).message).toContain('column "f64": creating a GPU buffer');
        await transport.finish().catch(() => {});
        await uploader.destroy();
        ring.destroy();
        expect(tracker.count).toBe(0);
        expect(probe.live().filter((b) => COLUMN.test(b.label))).toEqual([]);
      });
    });
  }
});
