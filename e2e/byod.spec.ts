import type { Page } from '@playwright/test';
import { Float32, Float64, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import type * as Lib from '../src/index.js';
import type { ColumnDigest, TestLoader } from './pages/harness.js';
import { decodePng } from './png.js';
import { expect, expectedColumns, fixtureBytes, fixtureRows, test } from './support.js';

// A loader given the page's own GPUDevice: the table's buffers are made on that device, so the page
// binds them in its own pipelines, and queries run there. Every buffer made on the device is tracked by
// wrapping device.createBuffer, so that a failed load can be shown to leave none behind.

const W = 100;
const H = 100;
/** Half the side of a drawn point, in pixels. */
const HALF = 3;

/** What the page keeps between steps: its device, the buffers alive on it, and its loader. */
interface PageDevice {
  device: GPUDevice;
  live: Set<GPUBuffer>;
  loader: Lib.DeviceLoader;
  /** The messages of GPU errors no error scope caught. */
  gpuErrors: string[];
  /** With `testWorker`: the hooks of the loader's worker (e2e/pages/test.worker.ts). */
  hooks: TestLoader | null;
}

declare global {
  interface Window {
    byod: PageDevice;
  }
}

/**
 * Makes the page's device (every buffer made on it tracked, every uncaught GPU error kept) and a loader
 * that loads onto it; with `testWorker`, the loader's worker is the test worker, with its hooks.
 */
async function pageDevice(page: Page, testWorker = false): Promise<void> {
  await page.evaluate(async (testWorker) => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('WebGPU returned no adapter');
    const device = await adapter.requestDevice();
    const gpuErrors: string[] = [];
    device.addEventListener('uncapturederror', (event) => gpuErrors.push(event.error.message));
    const live = new Set<GPUBuffer>();
    const create = device.createBuffer.bind(device);
    device.createBuffer = (descriptor) => {
      const buffer = create(descriptor);
      live.add(buffer);
      const destroy = buffer.destroy.bind(buffer);
      buffer.destroy = () => {
        live.delete(buffer);
        destroy();
      };
      return buffer;
    };
    const hooks = testWorker ? await window.harness.testLoader({ device }) : null;
    const loader = hooks
      ? (hooks.loader as Lib.DeviceLoader)
      : await window.harness.lib.createLoader({ device });
    window.byod = { device, live, loader, gpuErrors, hooks };
  }, testWorker);
}

/** Draws columns `x` and `y` (in [0, 1]) of a loaded table as red squares on white, with the page's device. */
async function drawPoints(page: Page, ipc: string): Promise<{ rows: number; chunks: number }> {
  return page.evaluate(
    async ({ ipc, W, H, HALF }) => {
      const { device, loader } = window.byod;
      const table = await loader.load(window.harness.tableUrl(ipc));
      const column = (name: string) => table.columns.find((c) => c.name === name) as Lib.DeviceColumnInfo;
      const [xs, ys] = [column('x').buffers.values[0], column('y').buffers.values[0]];
      if (!xs || !ys) throw new Error('no buffers');
      document.getElementById('byod')?.remove();
      const canvas = document.createElement('canvas');
      Object.assign(canvas, { id: 'byod', width: W, height: H });
      canvas.style.cssText = `display: block; width: ${W}px; height: ${H}px`;
      document.body.append(canvas);
      const context = canvas.getContext('webgpu') as GPUCanvasContext;
      const format = navigator.gpu.getPreferredCanvasFormat();
      context.configure({ device, format, alphaMode: 'opaque' });
      const module = device.createShaderModule({
        code: /* wgsl */ `
          @group(0) @binding(0) var<storage, read> xs: array<f32>;
          @group(0) @binding(1) var<storage, read> ys: array<f32>;
          const corners = array(vec2f(-1, -1), vec2f(1, -1), vec2f(-1, 1), vec2f(-1, 1), vec2f(1, -1), vec2f(1, 1));
          @vertex fn vs(@builtin(vertex_index) v: u32) -> @builtin(position) vec4f {
            let row = v / 6u;
            let centre = vec2f(xs[row], ys[row]) * 2.0 - 1.0;
            return vec4f(centre + corners[v % 6u] * vec2f(${(2 * HALF) / W}, ${(2 * HALF) / H}), 0.0, 1.0);
          }
          @fragment fn fs() -> @location(0) vec4f { return vec4f(1.0, 0.0, 0.0, 1.0); }`,
      });
      const pipeline = device.createRenderPipeline({
        layout: 'auto',
        vertex: { module, entryPoint: 'vs' },
        fragment: { module, entryPoint: 'fs', targets: [{ format }] },
      });
      const group = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: xs.buffer, size: xs.byteLength } },
          { binding: 1, resource: { buffer: ys.buffer, size: ys.byteLength } },
        ],
      });
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginRenderPass({
        colorAttachments: [
          {
            view: context.getCurrentTexture().createView(),
            clearValue: { r: 1, g: 1, b: 1, a: 1 },
            loadOp: 'clear',
            storeOp: 'store',
          },
        ],
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.draw(table.numRows * 6);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const error = await device.popErrorScope();
      if (error) throw new Error(`drawing failed: ${error.message}`);
      await device.queue.onSubmittedWorkDone();
      return { rows: table.numRows, chunks: xs.rows };
    },
    { ipc, W, H, HALF },
  );
}

/** Points at pixel-aligned positions, far enough apart not to overlap. */
const POINTS = [
  [0.2, 0.3],
  [0.7, 0.8],
  [0.5, 0.5],
  [0.85, 0.15],
] as const;

test('a loader given the page device loads columns into buffers that the page draws as points with its own pipeline', async ({
  harnessPage,
}) => {
  await pageDevice(harnessPage);
  const source = new Table({
    x: vectorFromArray(
      POINTS.map((p) => p[0]),
      new Float32(),
    ),
    // Float64 is widened to f32 in the worker: the page reads what the encoder wrote.
    y: vectorFromArray(
      POINTS.map((p) => p[1]),
      new Float64(),
    ),
  });
  const ipc = Buffer.from(tableToIPC(source, 'stream')).toString('base64');
  const drawn = await drawPoints(harnessPage, ipc);
  expect(drawn).toEqual({ rows: POINTS.length, chunks: POINTS.length });

  // Where each point's square must be, on the CPU: columns and rows of pixels, y up.
  const squares = POINTS.map(([x, y]) => {
    const cx = Math.round(Math.fround(x) * W);
    const cy = Math.round((1 - Math.fround(y)) * H);
    return { left: cx - HALF, right: cx + HALF, top: cy - HALF, bottom: cy + HALF };
  });
  const inside = (px: number, py: number) =>
    squares.some((s) => px >= s.left && px < s.right && py >= s.top && py < s.bottom);
  let last: string[] = ['no screenshot yet'];
  await expect
    .poll(
      async () => {
        const image = decodePng(await harnessPage.locator('#byod').screenshot());
        const wrong: string[] = [];
        for (let py = 0; py < image.height; py++) {
          for (let px = 0; px < image.width; px++) {
            const at = (py * image.width + px) * 4;
            const [r, g, b] = [0, 1, 2].map((k) => image.data[at + k] ?? 0) as [number, number, number];
            const red = r > 250 && g < 5 && b < 5;
            const white = r > 250 && g > 250 && b > 250;
            if (inside(px, py) ? !red : !white) wrong.push(`(${px}, ${py}) is ${r},${g},${b}`);
          }
        }
        last = wrong;
        return wrong.length;
      },
      { message: `pixels that differ: ${last.slice(0, 5).join('; ')}` },
    )
    .toBe(0);
});

test('a table on the page device reads back the source bytes through readColumn and through its own buffers, and its queries equal the CPU', async ({
  harnessPage,
}) => {
  await pageDevice(harnessPage);
  const fixture = 'many-batches.stream';
  const result = await harnessPage.evaluate(async (url) => {
    const { device, loader } = window.byod;
    const table = await loader.load(url);
    const digests = await window.harness.readAll(table);
    // The page copies each chunk of column i32 itself, from the buffer it was handed.
    const column = table.columns.find((c) => c.name === 'i32') as Lib.DeviceColumnInfo;
    const direct: number[] = [];
    for (const chunk of column.buffers.values) {
      const staging = device.createBuffer({
        size: chunk.byteLength,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(chunk.buffer, 0, staging, 0, chunk.byteLength);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      direct.push(...new Int32Array(staging.getMappedRange()));
      staging.destroy();
    }
    const summary = await table.describe('i32');
    const filter = await table.filter({ column: 'i32', range: [-1000, 1000_000] });
    const histogram = await table.histogram('u8', { bins: 4, min: 0, max: 256 });
    const rows = await table.readRows({ offset: 100, limit: 3, columns: ['i32', 'f64'] });
    const read = rows.toArray().map((r) => ({ i32: r.i32 as number | null, f64: r.f64 as number | null }));
    const memory = await loader.memory();
    await table.destroy();
    await loader.trim(); // the staging buffers, kept on the page device between loads
    return {
      digests,
      direct,
      summary: { ...summary, sum: String(summary.sum), min: Number(summary.min), max: Number(summary.max) },
      kept: filter.count,
      counts: Array.from(histogram.counts),
      read,
      buffersWhileLoaded: memory.liveBuffers,
      liveAfterDestroy: window.byod.live.size,
      trackedAfterDestroy: (await loader.memory()).liveBuffers,
    };
  }, `/data/${fixture}`);
  expect(result.digests).toEqual(expectedColumns(fixture) satisfies ColumnDigest[]);

  const source = tableFromIPC(fixtureBytes(fixture));
  const ints = source.getChild('i32')?.toArray() as Int32Array;
  const valid = (name: string) => {
    const v = source.getChild(name);
    return (i: number) => v?.isValid(i) ?? false;
  };
  expect(result.direct).toEqual(Array.from(ints));
  const kept = Array.from(ints).filter((_v, i) => valid('i32')(i));
  expect(result.summary).toMatchObject({
    rows: ints.length,
    count: kept.length,
    nullCount: ints.length - kept.length,
    min: Math.min(...kept),
    max: Math.max(...kept),
    sum: String(kept.reduce((s, v) => s + BigInt(v), 0n)),
  });
  expect(result.kept).toBe(kept.filter((v) => v >= -1000 && v < 1000_000).length);
  const u8 = source.getChild('u8');
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < (u8?.length ?? 0); i++) {
    const bin = Math.floor((u8?.get(i) as number) / 64);
    if (u8?.isValid(i)) counts[bin] = (counts[bin] ?? 0) + 1;
  }
  expect(result.counts).toEqual(counts);
  const f64 = source.getChild('f64');
  expect(result.read).toEqual(
    [100, 101, 102].map((i) => ({
      i32: valid('i32')(i) ? ints[i] : null,
      f64: f64?.isValid(i) ? Math.fround(f64.get(i) as number) : null,
    })),
  );
  expect(result.buffersWhileLoaded).toBeGreaterThan(0);
  expect(result.trackedAfterDestroy).toBe(0);
  expect(result.liveAfterDestroy).toBe(0);
});

test('large chunks reach the page device through its staging buffers, two at most at once, byte for byte; they go with trim', async ({
  harnessPage,
}) => {
  await pageDevice(harnessPage);
  const fixture = 'big-16.stream';
  const result = await harnessPage.evaluate(async (url) => {
    const { device, loader } = window.byod;
    // Staging buffers on the page device: alive at once, and copies submitted from them (unmaps).
    const staging = { alive: 0, maxAlive: 0, unmaps: 0 };
    const create = device.createBuffer;
    device.createBuffer = (descriptor) => {
      const buffer = create(descriptor);
      if ((descriptor.usage & GPUBufferUsage.MAP_WRITE) === 0) return buffer;
      staging.maxAlive = Math.max(staging.maxAlive, ++staging.alive);
      const { destroy, unmap } = buffer;
      buffer.destroy = () => {
        staging.alive--;
        destroy.call(buffer);
      };
      buffer.unmap = () => {
        staging.unmaps++;
        unmap.call(buffer);
      };
      return buffer;
    };
    try {
      // A load's chunks go by writeBuffer until its second one has the ring make a buffer; the next load,
      // right after, finds it made.
      await (await loader.load(url)).destroy();
      const unmapsBefore = staging.unmaps;
      const table = await loader.load(url);
      const unmaps = staging.unmaps - unmapsBefore;
      const digests = await window.harness.readAll(table);
      await table.destroy();
      await loader.trim();
      return { digests, unmaps, staging, after: await loader.memory() };
    } finally {
      device.createBuffer = create;
    }
  }, `/data/${fixture}`);
  expect(result.digests).toEqual(expectedColumns(fixture) satisfies ColumnDigest[]);
  expect(result.unmaps, 'staged chunks of the second load').toBeGreaterThan(0);
  expect(result.staging.maxAlive, 'staging buffers alive at once').toBeLessThanOrEqual(2);
  expect(result.staging.alive, 'staging buffers alive after trim').toBe(0);
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([0, 0]);
});

test('a failed or cancelled load on the page device destroys every buffer it made there, with the same typed errors', async ({
  harnessPage,
}) => {
  await pageDevice(harnessPage);
  const bytes = fixtureBytes('many-batches.stream').byteLength;
  const result = await harnessPage.evaluate(async (bytes) => {
    const { loader, live } = window.byod;
    const { settle } = window.harness;
    const outcomes: Record<string, { code: string | null; made: number; leftAlive: number }> = {};
    const cases: Record<string, (signal: AbortSignal, abort: () => void) => Promise<unknown>> = {
      // The stream ends inside a message, after batches were uploaded.
      truncated: () => loader.load(`/fault/truncate/many-batches.stream?bytes=${Math.floor(bytes * 0.6)}`),
      cut: () => loader.load('/fault/cut/many-batches.stream?after=300000'),
      // Silent after 6 MB: rows have landed and the load cannot end before the abort reaches it.
      aborted: (signal, abort) =>
        loader.load('/fault/stall/big-16.stream?after=6000000', {
          signal,
          onProgress: (p) => {
            if (p.rows > 0) abort();
          },
        }),
    };
    for (const [name, run] of Object.entries(cases)) {
      const before = new Set(live);
      const made = new Set<GPUBuffer>();
      const create = window.byod.device.createBuffer;
      window.byod.device.createBuffer = (descriptor) => {
        const buffer = create(descriptor);
        made.add(buffer);
        return buffer;
      };
      const controller = new AbortController();
      const outcome = await settle(run(controller.signal, () => controller.abort()));
      window.byod.device.createBuffer = create;
      // Staging buffers the load used are the loader's, kept for the next load a second: not the load's.
      await loader.trim();
      // The destroys the worker asks for arrive a moment after the load rejects.
      for (let i = 0; i < 50 && [...live].some((b) => !before.has(b)); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      outcomes[name] = {
        code: outcome.code,
        made: made.size,
        leftAlive: [...live].filter((b) => !before.has(b)).length,
      };
    }
    const later = await loader.load('/data/one-batch.stream');
    return { outcomes, laterRows: later.numRows, memory: (await loader.memory()).liveBuffers };
  }, bytes);
  const { truncated, cut, aborted } = result.outcomes;
  expect(truncated).toMatchObject({ code: 'TRUNCATED', leftAlive: 0 });
  expect(cut).toMatchObject({ code: 'NETWORK', leftAlive: 0 });
  expect(aborted).toMatchObject({ code: 'ABORTED', leftAlive: 0 });
  for (const outcome of [truncated, cut, aborted]) expect(outcome?.made).toBeGreaterThan(0);
  expect(result.laterRows).toBe(1001);
});

test('render answers INVALID_ARGUMENT on a loader given a device: the page draws with the buffers itself', async ({
  harnessPage,
}) => {
  await pageDevice(harnessPage);
  const ipc = Buffer.from(
    tableToIPC(new Table({ s: vectorFromArray(['a'], new Utf8()) }), 'stream'),
  ).toString('base64');
  const outcome = await harnessPage.evaluate(async (ipc) => {
    const { loader } = window.byod;
    const table = await loader.load(window.harness.tableUrl(ipc));
    const canvas = window.harness.offscreen('plot', 10, 10);
    const { value: _, ...rest } = await window.harness.settle(loader.render(canvas, { table }));
    return { ...rest, dictionary: await table.dictionary('s') };
  }, ipc);
  expect(outcome).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'device' } });
  expect(outcome.message).toContain('columns[i].buffers');
  expect(outcome.dictionary).toEqual(['a']);
});

test('open on the page device: rows and chunks appear as batches land, a buffer once handed out stays, and the end holds the source', async ({
  harnessPage,
}) => {
  await pageDevice(harnessPage);
  const fixture = 'many-batches.stream';
  const result = await harnessPage.evaluate(async (url) => {
    const { loader, live } = window.byod;
    const seen: Array<{ rows: number; buffers: GPUBuffer[] }> = [];
    let batches = 0;
    // The time on the GPU (the page's thread writing the batch, the GPU copying it) is part of the batch's.
    const timesInOrder: boolean[] = [];
    const table = await loader.open(url, {
      onBatch: ({ msFromLastByte, msOnGpu }) => {
        batches++;
        timesInOrder.push(msOnGpu >= 0 && msOnGpu <= msFromLastByte);
        seen.push({
          rows: table.numRows,
          buffers: table.columns.flatMap((c) => c.buffers.values.map((b) => b.buffer)),
        });
      },
    });
    await table.done;
    const final = table.columns.flatMap((c) => c.buffers.values.map((b) => b.buffer));
    // Every buffer seen while the table filled is still one of its buffers, alive, at the end.
    const kept = seen.every((s) => s.buffers.every((b) => final.includes(b) && live.has(b)));
    const digests = await window.harness.readAll(table);
    const failed = await window.harness.settle(
      loader.open('/fault/cut/many-batches.stream?after=300000').then((t) => t.done),
    );
    await new Promise((r) => setTimeout(r, 200));
    await table.destroy();
    for (let i = 0; i < 50 && live.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    return {
      batches,
      timesInOrder,
      growing: seen.map((s) => s.rows),
      kept,
      rows: table.numRows,
      digests,
      failed: failed.code,
      liveAfter: live.size,
    };
  }, `/data/${fixture}`);
  expect(result.batches).toBe(61);
  expect(result.timesInOrder).toEqual(Array(61).fill(true));
  expect(result.growing[0]).toBeLessThan(result.rows);
  expect(result.growing).toEqual([...result.growing].sort((a, b) => a - b));
  expect(result.kept).toBe(true);
  expect(result.digests).toEqual(expectedColumns(fixture));
  expect(result.failed).toBe('NETWORK');
  expect(result.liveAfter).toBe(0);
});

test('a page device lost mid-load (destroyed) fails that load and later ones with DEVICE_LOST, and leaves no buffer alive', async ({
  harnessPage,
}) => {
  await pageDevice(harnessPage);
  const result = await harnessPage.evaluate(async () => {
    const { loader, device, live } = window.byod;
    const { settle } = window.harness;
    const during = await settle(
      loader.load('/data/big-16.stream', {
        onProgress: (p) => {
          if (p.rows > 0) device.destroy();
        },
      }),
    );
    for (let i = 0; i < 50 && live.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const later = await settle(loader.load('/data/one-batch.stream'));
    return { during: during.code, later: later.code, liveAfter: live.size };
  });
  expect(result).toEqual({ during: 'DEVICE_LOST', later: 'DEVICE_LOST', liveAfter: 0 });
});

// The loader's worker dies while it loads from servers that hold their batches back (e2e/live-route.ts):
// made to crash, or to vanish with no event (then only its unanswered pings tell).

/** What one death did, as the page saw it. */
interface Outcome {
  load: { code: string | null; message: string | null };
  done: { code: string | null };
  /** Buffers of the two loads in flight alive when their rejections were handled: none may be. */
  aliveAtLoadRejection: number;
  aliveAtDoneRejection: number;
  /** Buffers the two loads had made on the page's device before the death. */
  madeBeforeDeath: number;
  /** Chunks the opened table's columns still hand out once its `done` rejected. */
  openedBuffersAfter: number;
  finishedDigests: ColumnDigest[];
  finishedBuffersAlive: boolean;
  finishedDescribeRows: number;
  later: string | null;
  memoryBeforeDestroy: number;
  liveAfterDestroy: number;
  memoryAfterDestroy: number;
  closed: boolean;
  gpuErrors: string[];
}

for (const how of ['crashes', 'stops answering'] as const) {
  test(`on the page device, a worker that ${how} mid-load fails the load and the filling table with WORKER_FAILED, destroys their buffers at once, and leaves a loaded table usable`, async ({
    harnessPage,
  }) => {
    await pageDevice(harnessPage, true);
    const fixture = 'many-batches.stream';
    const result: Outcome = await harnessPage.evaluate(
      async ({ how, fixture }) => {
        const { loader, live, device, gpuErrors, hooks } = window.byod;
        if (!hooks) throw new Error('the loader has no test hooks');
        const { settle, readAll } = window.harness;

        const finished = await loader.load(`/data/${fixture}`);
        const finishedBuffers = finished.columns.flatMap((c) => [
          ...c.buffers.values.map((b) => b.buffer),
          ...(c.buffers.validity ?? []).map((b) => b.buffer),
        ]);
        const before = new Set(live);
        const newlyAlive = () => [...live].filter((b) => !before.has(b)).length;

        // Two loads in flight on servers that send the schema and two batches, then hold the rest back.
        const id = `death-${Math.random()}`;
        const load = loader.load(`/live/big-16.stream?id=${id}-load&first=3`);
        let aliveAtLoadRejection = -1;
        const loadSettled = settle(
          load.catch((error: unknown) => {
            aliveAtLoadRejection = newlyAlive();
            throw error;
          }),
        );
        let filled = () => {};
        const filling = new Promise<void>((resolve) => (filled = resolve));
        const opened = await loader.open(`/live/${fixture}?id=${id}-open&first=3`, {
          onBatch: () => filled(),
        });
        let aliveAtDoneRejection = -1;
        const doneSettled = settle(
          opened.done.catch((error: unknown) => {
            aliveAtDoneRejection = newlyAlive();
            throw error;
          }),
        );
        await filling;
        // The load is in flight once its buffers are on the page's device (its progress is throttled, so
        // it may not report a batch while the server holds the rest back).
        const ofOpened = new Set(
          opened.columns.flatMap((c) =>
            [...c.buffers.values, ...(c.buffers.validity ?? [])].map((b) => b.buffer),
          ),
        );
        const ofLoad = () => [...live].filter((b) => !before.has(b) && !ofOpened.has(b)).length;
        for (let waited = 0; ofLoad() === 0; waited += 20) {
          if (waited > 20_000) throw new Error('the load made no buffer on the page device in 20 s');
          await new Promise((r) => setTimeout(r, 20));
        }
        const madeBeforeDeath = newlyAlive();

        if (how === 'crashes') void hooks.crash();
        else hooks.exit();
        const [loaded, done] = await Promise.all([loadSettled, doneSettled]);

        const finishedDigests = await readAll(finished);
        const summary = await finished.describe('i32');
        const later = await settle(loader.load(`/data/${fixture}`));
        const memoryBeforeDestroy = (await loader.memory()).liveBuffers;
        const finishedBuffersAlive = finishedBuffers.every((b) => live.has(b));
        await finished.destroy();
        const liveAfterDestroy = live.size;
        const memoryAfterDestroy = (await loader.memory()).liveBuffers;
        const closed = (await settle(loader.close())).ok;
        // Errors the device reports come back asynchronously: give them a moment to arrive.
        await device.queue.onSubmittedWorkDone();
        await new Promise((r) => setTimeout(r, 100));
        device.destroy();
        return {
          load: { code: loaded.code, message: loaded.message },
          done: { code: done.code },
          aliveAtLoadRejection,
          aliveAtDoneRejection,
          madeBeforeDeath,
          openedBuffersAfter: opened.columns.reduce((n, c) => n + c.buffers.values.length, 0),
          finishedDigests,
          finishedBuffersAlive,
          finishedDescribeRows: summary.rows,
          later: later.code,
          memoryBeforeDestroy,
          liveAfterDestroy,
          memoryAfterDestroy,
          closed,
          gpuErrors,
        };
      },
      { how, fixture },
    );
    expect(result.load.code, result.load.message ?? '').toBe('WORKER_FAILED');
    expect(result.load.message).toMatch(
      how === 'crashes' ? /crash requested by a test/ : /stopped answering/,
    );
    expect(result.done.code).toBe('WORKER_FAILED');
    // The loads had made buffers on the page's device; none was alive when their rejections were handled.
    expect(result.madeBeforeDeath).toBeGreaterThan(1);
    expect(result.aliveAtLoadRejection).toBe(0);
    expect(result.aliveAtDoneRejection).toBe(0);
    expect(result.openedBuffersAfter).toBe(0);
    // The table loaded before the death still holds the source, on the page's device, with no worker.
    expect(result.finishedDigests).toEqual(expectedColumns(fixture));
    expect(result.finishedBuffersAlive).toBe(true);
    expect(result.finishedDescribeRows).toBe(fixtureRows(fixture));
    expect(result.later).toBe('WORKER_FAILED');
    expect(result.memoryBeforeDestroy).toBeGreaterThan(0);
    expect(result.liveAfterDestroy).toBe(0);
    expect(result.memoryAfterDestroy).toBe(0);
    expect(result.closed).toBe(true);
    expect(result.gpuErrors).toEqual([]);
  });
}
