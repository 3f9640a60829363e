import { describe, expect, it } from 'vitest';
import { batchesOf, type DatasetSpec } from '../../scripts/datasets.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import { openBatchStream } from '../../src/core/ipc/decode.js';
import { IpcFramer } from '../../src/core/ipc/framer.js';
import { type PipelineInput, runPipeline } from '../../src/core/pipeline/load.js';
import type { UploadStrategy } from '../../src/types.js';
import { chunked, encodeDataset, streamed, tailOf, trickle, whole } from '../support/byte-sources.js';
import { type DeviceProbe, until, withContext } from '../support/dawn.js';
import {
  type ColumnImage,
  destroyColumns,
  expectedColumns,
  expectSameColumns,
  readColumns,
} from '../support/gpu-columns.js';
import { xorshift } from '../support/mutate.js';

// runPipeline end to end on Dawn: what reaches the GPU for every delivery of the same bytes, and how a
// load fails (first error wins, GPU errors seen, nothing left behind).

const STRATEGIES: readonly UploadStrategy[] = ['staging', 'writeBuffer'];
const URL = 'test://pipeline';

const SPEC = {
  rows: 5003,
  batchRows: 331,
  columns: { x: 'f32', y: 'f64', id: 'i32', kind: 'u16', small: 'i8', label: 'utf8' },
  nulls: { y: 0.25, small: 0.5, kind: 0.01 },
} as const;
const NUMERIC = ['x', 'y', 'id', 'kind', 'small'];

function spec(format: 'stream' | 'file', overrides: Partial<DatasetSpec> = {}): DatasetSpec {
  return { ...SPEC, columns: { ...SPEC.columns }, nulls: { ...SPEC.nulls }, format, ...overrides };
}

function input(
  context: GpuContext,
  bytes: Uint8Array,
  source: AsyncIterable<Uint8Array>,
  upload: UploadStrategy,
  more: Partial<PipelineInput> = {},
): PipelineInput {
  return {
    gpu: context,
    source,
    readTail: tailOf(bytes),
    url: URL,
    bytesTotal: bytes.byteLength,
    columns: NUMERIC,
    upload,
    ...more,
  };
}

/** Loads, reads every column back, and destroys the table. */
async function loadImage(context: GpuContext, load: PipelineInput): Promise<Map<string, ColumnImage>> {
  const table = await runPipeline(load);
  expect(table.stats.maxUploadsInFlight).toBeLessThanOrEqual(2);
  const image = await readColumns(context.device, context.tracker, table.numRows, table.columns);
  destroyColumns(context.tracker, table.columns);
  return image;
}

/** The library error a load rejects with; fails the test if it loads or throws anything else. */
async function failureOf(load: Promise<unknown>): Promise<ArrowGpuError> {
  const error = await load.then(
    () => new Error('the load succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArrowGpuError);
  return error as ArrowGpuError;
}

function randomSizes(seed: number): number[] {
  const next = xorshift(seed);
  return Array.from({ length: 64 }, () => 1 + Math.floor(next() * 6000));
}

/** A load that fails, and what it must leave: no column buffer, the source closed. */
async function expectCleanFailure(
  context: GpuContext,
  load: (closeSource: () => void) => Promise<unknown>,
): Promise<ArrowGpuError> {
  const before = context.tracker.count;
  let closed = 0;
  const error = await failureOf(load(() => closed++));
  expect(context.tracker.count, 'buffers alive after the failed load').toBe(before);
  expect(closed, 'closeSource calls').toBe(1);
  return error;
}

/** The source bytes of each record batch message. */
interface Span {
  byteOffset: number;
  endOffset: number;
}

async function batchSpans(bytes: Uint8Array): Promise<Span[]> {
  const stream = await openBatchStream(new IpcFramer(whole(bytes), URL), URL);
  const spans: Span[] = [];
  for await (const { byteOffset, endOffset } of stream.batches) spans.push({ byteOffset, endOffset });
  return spans;
}

/** Makes every staging slot (shared by loads, kept between them) exist before a test counts buffers. */
async function warmUp(context: GpuContext): Promise<void> {
  const slots = [];
  for (let i = 0; i < context.ring.size; i++) slots.push(await context.ring.acquire(1));
  for (const slot of slots) context.ring.release(slot);
}

describe('runPipeline on Dawn: the same bytes, delivered any way, give the same GPU bytes', () => {
  for (const format of ['stream', 'file'] as const) {
    for (const upload of STRATEGIES) {
      it(`${format} format, ${upload}: whole, in random chunks and through a ReadableStream`, async () => {
        const bytes = encodeDataset(spec(format));
        const expected = expectedColumns([...batchesOf(spec(format))], NUMERIC);
        await withContext(async (context) => {
          const deliveries = {
            whole: whole(bytes),
            chunked: chunked(bytes, randomSizes(bytes.byteLength)),
            streamed: streamed(bytes, 1000),
          };
          for (const [how, source] of Object.entries(deliveries)) {
            const image = await loadImage(context, input(context, bytes, source, upload));
            try {
              expectSameColumns(image, expected);
            } catch (error) {
              throw new Error(`${how}: ${(error as Error).message}`);
            }
          }
        });
      });
    }
  }

  it('many small batches keep both strategies within two in flight, measured at the API', async () => {
    const bytes = encodeDataset(spec('stream', { rows: 20_000, batchRows: 50 }));
    const expected = expectedColumns(
      [...batchesOf(spec('stream', { rows: 20_000, batchRows: 50 }))],
      NUMERIC,
    );
    await withContext(async (context, probe) => {
      for (const upload of STRATEGIES) {
        expectSameColumns(
          await loadImage(context, input(context, bytes, chunked(bytes, [777]), upload)),
          expected,
        );
      }
      expect(probe.maxMapWriteAlive).toBeLessThanOrEqual(2);
      expect(probe.maxMapWritePending).toBeGreaterThan(0);
      expect(probe.maxWriteSubmissionsInFlight).toBeLessThanOrEqual(2);
      expect(probe.writeSubmissions).toBeGreaterThan(1);
    });
  });
});

describe('runPipeline on Dawn: the first error wins, and a failed load leaves nothing behind', () => {
  // Two f32/i32 columns of 500-row batches: a 6000-byte cap holds 1500 rows, so the 4th batch overflows.
  const capped = spec('stream', { rows: 6000, batchRows: 500, columns: { a: 'f32', b: 'i32' }, nulls: {} });
  for (const upload of STRATEGIES) {
    it(`${upload}: a column over maxBufferBytes while the reader waits mid-message rejects with LIMIT_EXCEEDED, never TRUNCATED`, async () => {
      const bytes = encodeDataset(capped);
      // The 4th batch reaches the uploader once its own message is whole. That message arrives with
      // the first half of the 5th, in one piece, and the source stalls there: the reader waits in the
      // middle of a message.
      const spans = await batchSpans(bytes);
      const [fourth, fifth] = [spans[3], spans[4]] as [Span, Span];
      const stallAt = Math.floor((fifth.byteOffset + fifth.endOffset) / 2);
      let unstall = () => {};
      const resume = new Promise<void>((resolve) => {
        unstall = resolve;
      });
      const cuts = [fourth.byteOffset, stallAt];
      const { source, state } = trickle(bytes, { chunkSize: 512, delayMs: 1, cuts, stallAt, resume });
      let stalledWhenClosed = false;
      await withContext(
        async (context) => {
          await warmUp(context);
          const error = await expectCleanFailure(context, (closeSource) =>
            runPipeline(
              input(context, bytes, source, upload, {
                columns: ['a', 'b'],
                closeSource: () => {
                  stalledWhenClosed = state.stalled;
                  closeSource();
                  unstall();
                },
              }),
            ),
          );
          expect(error.code, error.message).toBe('LIMIT_EXCEEDED');
          expect(error.message).toContain("over the loader's maxBufferBytes of");
          expect(error.details).toMatchObject({ url: URL, column: 'a', expected: 6000, actual: 8000 });
          expect(stalledWhenClosed, 'the source stalled mid-message when the load failed').toBe(true);
          await until(() => state.closed, 'the source to be closed');
        },
        { maxBufferBytes: 6000 },
      );
    });
  }

  for (const upload of STRATEGIES) {
    it(`${upload}: a destination buffer destroyed before its copy runs rejects with GPU_VALIDATION, not zeros`, async () => {
      const bytes = encodeDataset(spec('stream'));
      await withContext(async (context, probe) => {
        await warmUp(context);
        destroyColumnMidLoad(probe, upload, 'column "id"');
        const error = await expectCleanFailure(context, (closeSource) =>
          runPipeline(input(context, bytes, chunked(bytes, [4096]), upload, { closeSource })),
        );
        expect(error.code, error.message).toBe('GPU_VALIDATION');
        // The WebGPU message, naming the buffer.
        expect(error.message).toMatch(/failed on the GPU \(validation error\): .*column "id".* destroyed/s);
        expect(error.details.url).toBe(URL);
      });
    });
  }

  it('counts uncapturederror events, and a load during which one happened rejects with GPU_VALIDATION', async () => {
    const bytes = encodeDataset(spec('stream'));
    await withContext(
      async (context, probe) => {
        raiseUncaptured(context);
        await until(() => context.uncapturedErrors === 1, 'the uncapturederror event');
        expect(context.lastUncapturedError).toMatch(/is invalid/);
        // One from before the load does not fail it.
        await loadImage(context, input(context, bytes, whole(bytes), 'staging'));

        const onChunk = (chunk: number) => {
          if (chunk === 3) raiseUncaptured(context);
        };
        const { source } = trickle(bytes, { chunkSize: 2048, delayMs: 1, onChunk });
        const error = await expectCleanFailure(context, (closeSource) =>
          runPipeline(input(context, bytes, source, 'writeBuffer', { closeSource })),
        );
        expect(context.uncapturedErrors).toBe(2);
        expect(error.code, error.message).toBe('GPU_VALIDATION');
        expect(error.message).toContain('outside any error scope');
        expect(error.message).toMatch(/is invalid/);
        expect(probe.live().map((b) => b.label)).not.toContain('invalid on purpose');
      },
      { errorScopes: false }, // an outer scope would catch the error before it became an event
    );
  });
});

/**
 * Destroys the column buffer named `label` behind the uploader's back, just before the GPU call that
 * writes it after the first batches: the staged copy's submit, or the `writeBuffer` into it.
 */
function destroyColumnMidLoad(probe: DeviceProbe, upload: UploadStrategy, label: string): void {
  let done = false;
  const destroy = () => {
    const record = probe.latest(label);
    if (done || !record) return;
    done = true;
    record.buffer.destroy();
  };
  const start = { submits: probe.submits, writes: probe.writes };
  if (upload === 'staging') {
    // Every submission of the load copies into each column: the flush after the first batch, a growth,
    // the final flush. The second one always comes.
    probe.hooks.beforeSubmit = (submits) => {
      if (submits - start.submits >= 2) destroy();
    };
  } else {
    probe.hooks.beforeWrite = (dst, writes) => {
      if (writes - start.writes >= 20 && dst === probe.latest(label)?.buffer) destroy();
    };
  }
}

/** A WebGPU validation error outside any error scope: an impossible buffer usage. */
function raiseUncaptured(context: GpuContext): void {
  const invalid = context.device.createBuffer({
    label: 'invalid on purpose',
    size: 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE,
  });
  invalid.destroy();
}
