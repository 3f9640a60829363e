import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Bool,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { Encoding, EncodingRequest } from '../../src/core/columns/encoding.js';
import { ArgumentError, type ArrowGpuError, ColumnError, LimitError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/core/gpu/device-context.js';
import {
  DEFAULT_POINT_COLOR,
  DIM_OPACITY,
  hexColor,
  NULL_COLOR,
  TABLEAU10,
  viridis,
} from '../../src/core/gpu/render/palettes.js';
import type { Range, RenderSettings } from '../../src/core/gpu/render/render-settings.js';
import { ViewRenderer } from '../../src/core/gpu/render/view-renderer.js';
import { paddedDomain } from '../../src/core/gpu/render/view-settings.js';
import { runPipeline } from '../../src/core/pipeline/load.js';
import { LoaderService } from '../../src/core/service/loader-service.js';
import { TableStore } from '../../src/core/service/table-store.js';
import { tailOf, whole } from '../support/byte-sources.js';
import { dawnGpu, withContext } from '../support/dawn.js';
import {
  type ExpectedPoint,
  imageDifferences,
  overBytes,
  pointCentre,
  premultipliedBytes,
} from '../support/point-image.js';
import { TextureCanvas, TextureTarget } from '../support/render-target.js';

// Tables drawn by the worker's renderer on Dawn into a texture, read back and compared pixel by pixel
// with the image the same points make when placed on the CPU (f64, bigints for 64-bit integers):
// every pixel inside a point has its colour, every pixel outside all points the background.

const W = 80;
const H = 60;
const WHITE: [number, number, number, number] = [1, 1, 1, 1];
const WHITE_BYTES = [255, 255, 255, 255] as const;
const FILL = premultipliedBytes(hexColor(DEFAULT_POINT_COLOR));

async function stored(
  context: GpuContext,
  table: Table,
  encodings: EncodingRequest = 'auto',
  chunkBytes?: number,
) {
  const bytes = tableToIPC(table, 'stream');
  const loaded = await runPipeline({
    gpu: context,
    source: whole(bytes),
    readTail: tailOf(bytes),
    url: 'test://render',
    bytesTotal: bytes.byteLength,
    encodings,
    chunkBytes,
    upload: 'staging',
  });
  const tables = new TableStore();
  const { tableId } = tables.add(loaded, context);
  return { tables, tableId, source: tables.viewSource(tableId) };
}

/** Draws `settings` of a stored table into a W × H texture and hands the view to `body`; frees all after. */
async function withView(
  context: GpuContext,
  table: Table,
  settings: RenderSettings,
  body: (view: ViewRenderer, target: TextureTarget, tables: TableStore, tableId: number) => Promise<void>,
  options: { encodings?: EncodingRequest; chunkBytes?: number } = {},
): Promise<void> {
  const { tables, tableId, source } = await stored(context, table, options.encodings, options.chunkBytes);
  const target = new TextureTarget(context.device, W, H);
  try {
    const view = await ViewRenderer.create(source, target, settings);
    try {
      await body(view, target, tables, tableId);
    } finally {
      view.destroy();
    }
  } finally {
    target.destroy();
    tables.destroy(tableId);
  }
}

/** Differences between the frame and `points` of side `size` over a white background. */
async function frameDifferences(target: TextureTarget, points: ExpectedPoint[], size: number, tolerance = 1) {
  const result = imageDifferences(await target.read(), points, size, WHITE_BYTES, tolerance);
  // A check that looks at nothing proves nothing: the points and the background are both seen.
  expect(result.inside, 'pixels checked inside points').toBeGreaterThan(points.length);
  expect(result.outside, 'pixels checked outside points').toBeGreaterThan(W * H * 0.5);
  return result.differences;
}

/** One drawable encoding: a column whose values sit far from zero, where f32 alone would merge them. */
interface EncodingCase {
  encoding: string;
  vector: Vector;
  /** The values as exact numbers or bigints. */
  values: (number | bigint)[];
  domain: Range;
  encodings?: Record<string, Encoding>;
}

const STEPS = [1, 4, 6, 9];

function encodingCases(): EncodingCase[] {
  const at = (base: number, step: number) => STEPS.map((m) => base + step * m);
  const atBig = (base: bigint, step: bigint) => STEPS.map((m) => base + step * BigInt(m));
  const span = (base: number, step: number): Range => [base, base + 10 * step];
  const ms = 1767225600000; // 2026-01-01 in epoch milliseconds
  const f64 = 1767225600000.5; // 42 significant bits: both halves of the split are needed
  return [
    {
      encoding: 'f32',
      vector: vectorFromArray(at(2 ** 20, 0.5), new Float32()),
      values: at(2 ** 20, 0.5),
      domain: span(2 ** 20, 0.5),
    },
    {
      encoding: 'f32-relative',
      vector: vectorFromArray(at(ms, 250), new Float64()),
      values: at(ms, 250),
      domain: span(ms, 250),
      encodings: { v: 'f32-relative' },
    },
    {
      encoding: 'f64',
      vector: vectorFromArray(at(f64, 0.25), new Float64()),
      values: at(f64, 0.25),
      domain: span(f64, 0.25),
      encodings: { v: 'f64' },
    },
    {
      encoding: 'i32',
      vector: vectorFromArray(at(2147483000, 10), new Int32()),
      values: at(2147483000, 10),
      domain: span(2147483000, 10),
    },
    {
      encoding: 'u32',
      vector: vectorFromArray(at(4294967000, 10), new Uint32()),
      values: at(4294967000, 10),
      domain: span(4294967000, 10),
    },
    {
      encoding: 'i64',
      vector: vectorFromArray(atBig(-(2n ** 60n), 256n), new Int64()),
      values: atBig(-(2n ** 60n), 256n),
      domain: [-(2 ** 60), -(2 ** 60) + 2560],
    },
    {
      encoding: 'u64',
      vector: vectorFromArray(atBig(2n ** 63n, 2048n), new Uint64()),
      values: atBig(2n ** 63n, 2048n),
      domain: [2 ** 63, 2 ** 63 + 20480],
    },
    {
      encoding: 'dictionary',
      vector: vectorFromArray(['k1', 'k4', 'k6', 'k9'], new Utf8()),
      values: [0, 1, 2, 3], // codes, in order of first appearance
      domain: [-1, 4],
    },
    {
      encoding: 'bool',
      vector: vectorFromArray([false, true, true, false], new Bool()),
      values: [0, 1, 1, 0],
      domain: [-1, 2],
    },
  ];
}

describe('the renderer draws every drawable encoding where its values are', () => {
  for (const c of encodingCases()) {
    it(`${c.encoding} on x, then on y`, async () => {
      const index = [0.5, 1.5, 2.5, 3.5];
      const table = new Table({ v: c.vector, i: vectorFromArray(index, new Float32()) });
      await withContext(async (context) => {
        const domain = { x: c.domain, y: [0, 4] as Range };
        const settings: RenderSettings = { x: 'v', y: 'i', size: 4, domain, background: WHITE };
        await withView(
          context,
          table,
          settings,
          async (view, target) => {
            expect(view.state.domain).toEqual({ ...domain, color: null });
            const onX = c.values.map((v, r) => ({ ...pointCentre(v, index[r]!, domain, W, H), rgba: FILL }));
            expect(await frameDifferences(target, onX, 4)).toEqual([]);
            const flipped = { x: [0, 4] as Range, y: c.domain };
            await view.update({ x: 'i', y: 'v', domain: flipped });
            const onY = c.values.map((v, r) => ({ ...pointCentre(index[r]!, v, flipped, W, H), rgba: FILL }));
            expect(await frameDifferences(target, onY, 4)).toEqual([]);
          },
          { encodings: c.encodings ?? 'auto' },
        );
      });
    });
  }
});

/** A Float32 column with nulls whose slots hold `slots` (so a null row, if drawn, would land in view). */
function float32WithNulls(values: number[], nulls: readonly number[]): Vector {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (let r = 0; r < values.length; r++) if (!nulls.includes(r)) bitmap[r >> 3]! |= 1 << (r & 7);
  return makeVector(
    makeData({
      type: new Float32(),
      length: values.length,
      nullCount: nulls.length,
      nullBitmap: bitmap,
      data: Float32Array.from(values),
    }),
  );
}

describe('rows the renderer leaves out', () => {
  it('a null x or y, a NaN or an infinite value is not drawn; the others are', async () => {
    const xs = [1, 2, 3, 4, 5, 6, 7];
    const ys = [1, 2, Number.NaN, 4, Number.POSITIVE_INFINITY, 6, 2];
    // Rows 1 (x null) and 5 (y null) hold values in view.
    const table = new Table({
      x: float32WithNulls(xs, [1]),
      y: vectorFromArray(ys, new Float64()),
      ny: float32WithNulls([1, 2, 3, 4, 5, 6, 2], [5]),
    });
    await withContext(async (context) => {
      const domain = { x: [0, 8] as Range, y: [0, 8] as Range };
      await withView(
        context,
        table,
        { x: 'x', y: 'y', size: 5, domain, background: WHITE },
        async (view, target) => {
          const drawn = [0, 3, 5, 6].map((r) => ({
            ...pointCentre(xs[r]!, ys[r]!, domain, W, H),
            rgba: FILL,
          }));
          expect(await frameDifferences(target, drawn, 5)).toEqual([]);
          await view.update({ y: 'ny', domain });
          const withNullY = [0, 2, 3, 4, 6].map((r) => ({
            ...pointCentre(xs[r]!, [1, 2, 3, 4, 5, 6, 2][r]!, domain, W, H),
            rgba: FILL,
          }));
          expect(await frameDifferences(target, withNullY, 5)).toEqual([]);
        },
        { encodings: { y: 'f64' } },
      );
    });
  });
});

describe('colour', () => {
  it('a dictionary column takes Tableau 10 by code (cycling), a null the null colour', async () => {
    const n = 12;
    const xs = Array.from({ length: n }, (_, r) => (r % 6) + 0.5);
    const ys = Array.from({ length: n }, (_, r) => Math.floor(r / 6) + 0.5);
    const names = Array.from({ length: n }, (_, r) => (r === 7 ? null : `c${r}`));
    const table = new Table({
      x: vectorFromArray(xs, new Float32()),
      y: vectorFromArray(ys, new Float32()),
      kind: vectorFromArray(names, new Utf8()),
    });
    await withContext(async (context) => {
      const domain = { x: [0, 6] as Range, y: [0, 2] as Range };
      const settings: RenderSettings = { x: 'x', y: 'y', color: 'kind', size: 6, domain, background: WHITE };
      await withView(context, table, settings, async (view, target, tables, tableId) => {
        const dictionary = tables.dictionary(tableId, 'kind');
        const points = names.map((name, r) => {
          const code = dictionary.indexOf(name as string);
          const rgb = name === null ? hexColor(NULL_COLOR) : hexColor(TABLEAU10[code % 10]!);
          return { ...pointCentre(xs[r]!, ys[r]!, domain, W, H), rgba: premultipliedBytes(rgb) };
        });
        expect(await frameDifferences(target, points, 6)).toEqual([]);
        expect(view.state.domain.color).toBeNull();
      });
    });
  });

  it('a numeric column takes viridis over its extent by default, then over a given domain', async () => {
    const n = 10;
    const xs = Array.from({ length: n }, (_, r) => r + 0.5);
    const heat = Array.from({ length: n }, (_, r) => 100 + r * r * 3);
    const table = new Table({
      x: vectorFromArray(xs, new Float32()),
      y: vectorFromArray(
        xs.map(() => 1),
        new Float32(),
      ),
      heat: vectorFromArray(heat, new Int32()),
    });
    await withContext(async (context) => {
      const domain = { x: [0, 10] as Range, y: [0, 2] as Range };
      const settings: RenderSettings = { x: 'x', y: 'y', color: 'heat', size: 6, domain, background: WHITE };
      await withView(context, table, settings, async (view, target) => {
        const lo = Math.min(...heat);
        const hi = Math.max(...heat);
        expect(view.state.domain.color).toEqual([lo, hi]);
        const expected = (range: Range) =>
          heat.map((h, r) => ({
            ...pointCentre(xs[r]!, 1, domain, W, H),
            rgba: premultipliedBytes(viridis((h - range[0]) / (range[1] - range[0]))),
          }));
        // f32 polynomial against f64, then rounding to bytes.
        expect(await frameDifferences(target, expected([lo, hi]), 6, 2)).toEqual([]);
        await view.update({ domain: { color: [150, 250] } });
        expect(await frameDifferences(target, expected([150, 250]), 6, 2)).toEqual([]);
      });
    });
  });

  it("viridis's polynomial stays within 4/255 of matplotlib's table at its ends and quarters", () => {
    const table = { 0: '#440154', 0.25: '#3b528b', 0.5: '#21918c', 0.75: '#5ec962', 1: '#fde725' };
    for (const [t, hex] of Object.entries(table)) {
      const got = viridis(Number(t)).map((v) => Math.round(v * 255));
      const want = hexColor(hex).map((v) => Math.round(v * 255));
      expect(
        got.map((v, i) => Math.abs(v - want[i]!)).every((d) => d <= 4),
        `viridis(${t}) = ${got}, table ${want}`,
      ).toBe(true);
    }
  });
});

describe('chunks and row masks', () => {
  // 256-byte chunks: 64 rows each, so 200 rows span four chunks (the last of 8 rows).
  const rows = 200;
  const xs = Array.from({ length: rows }, (_, r) => (r % 20) + 0.5);
  const ys = Array.from({ length: rows }, (_, r) => Math.floor(r / 20) + 0.5);
  const table = new Table({ x: vectorFromArray(xs, new Float32()), y: vectorFromArray(ys, new Float32()) });
  const domain = { x: [0, 20] as Range, y: [0, 10] as Range };
  const kept = (r: number) => r % 3 === 0 || r > 190;
  const centre = (r: number) => pointCentre(xs[r]!, ys[r]!, domain, W, H);

  async function maskOf(context: GpuContext): Promise<GPUBuffer> {
    const words = new Uint32Array(Math.ceil(rows / 32));
    for (let r = 0; r < rows; r++) if (kept(r)) words[r >> 5]! |= 1 << (r & 31);
    const mask = await context.tracker.create({
      label: 'test row mask',
      size: words.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    context.device.queue.writeBuffer(mask, 0, words);
    return mask;
  }

  it('every chunk is drawn; a mask hides the rows outside it, or dims them under the others', async () => {
    await withContext(async (context) => {
      const settings: RenderSettings = { x: 'x', y: 'y', size: 2, domain, background: WHITE };
      await withView(
        context,
        table,
        settings,
        async (view, target, tables, tableId) => {
          expect(tables.viewSource(tableId).column('x').values.length).toBe(4);
          const all = xs.map((_, r) => ({ ...centre(r), rgba: FILL }));
          expect(await frameDifferences(target, all, 2)).toEqual([]);
          const mask = await maskOf(context);
          try {
            await view.update({ filterMode: 'hide' });
            await view.setMask(mask);
            const inside = all.filter((_, r) => kept(r));
            expect(await frameDifferences(target, inside, 2)).toEqual([]);
            await view.update({ filterMode: 'dim' });
            const dimmed = overBytes(hexColor(DEFAULT_POINT_COLOR), DIM_OPACITY, [1, 1, 1]);
            const both = all.map((p, r) => (kept(r) ? p : { ...p, rgba: dimmed }));
            expect(await frameDifferences(target, both, 2)).toEqual([]);
            await view.setMask(null);
            expect(await frameDifferences(target, all, 2)).toEqual([]);
          } finally {
            context.tracker.destroy(mask);
          }
        },
        { chunkBytes: 256 },
      );
    });
  });

  it('rows past a mask shorter than the table (a filter made before they landed) are outside it', async () => {
    await withContext(async (context) => {
      const settings: RenderSettings = { x: 'x', y: 'y', size: 2, domain, background: WHITE };
      await withView(context, table, settings, async (view, target) => {
        const words = new Uint32Array(2);
        for (let r = 0; r < 64; r++) if (kept(r)) words[r >> 5]! |= 1 << (r & 31);
        const short = await context.tracker.create({
          label: 'short mask: rows 0-63',
          size: words.byteLength,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
        });
        try {
          context.device.queue.writeBuffer(short, 0, words);
          await view.update({ filterMode: 'hide' });
          await view.setMask(short);
          const inside = xs.flatMap((_, r) => (r < 64 && kept(r) ? [{ ...centre(r), rgba: FILL }] : []));
          expect(await frameDifferences(target, inside, 2)).toEqual([]);
        } finally {
          context.tracker.destroy(short);
        }
      });
    });
  });
});

describe('updates', () => {
  const xs = [2, 5, 9, 14];
  const ys = [3, 8, 1, 6];
  const table = new Table({
    x: vectorFromArray(xs, new Float32()),
    y: vectorFromArray(ys, new Float32()),
    y2: vectorFromArray([-50, 0, 25, 100], new Int32()),
  });
  const extent = (values: number[]) => paddedDomain([Math.min(...values), Math.max(...values)]);

  it('the domain defaults to the padded extent; a new domain pans, a new column gets its extent', async () => {
    await withContext(async (context, probe) => {
      await withView(context, table, { x: 'x', y: 'y', size: 3, background: WHITE }, async (view, target) => {
        const start = { x: extent(xs), y: extent(ys) };
        expect(view.state.domain).toEqual({ ...start, color: null });
        const at = (d: { x: Range; y: Range }, y = ys) =>
          xs.map((x, r) => ({ ...pointCentre(x, y[r]!, d, W, H), rgba: FILL }));
        expect(await frameDifferences(target, at(start), 3)).toEqual([]);
        const buffers = probe.buffers.length;
        const panned = { x: [start.x[0] + 3, start.x[1] + 3] as Range, y: start.y };
        await view.update({ domain: { x: panned.x } });
        expect(await frameDifferences(target, at(panned), 3)).toEqual([]);
        // Panning reuses the view's buffers: only read-backs of the frame are made.
        expect(probe.buffers.slice(buffers).map((b) => b.label)).toEqual(['test texture read-back']);
        // A change that fails leaves the view as it was, and draws nothing.
        const before = view.state;
        const missing = await view.update({ y: 'nope', domain: { x: [0, 1] } }).catch((e: unknown) => e);
        expect((missing as ColumnError).code).toBe('NO_SUCH_COLUMN');
        const shader = await view.update({ shader: { code: 'x' } }).catch((e: unknown) => e);
        expect((shader as ArgumentError).details.option).toBe('shader');
        expect(view.state).toEqual(before);
        await view.update({ y: 'y2' });
        const y2 = [-50, 0, 25, 100];
        expect(view.state.domain.y).toEqual(extent(y2));
        expect(await frameDifferences(target, at({ x: panned.x, y: extent(y2) }, y2), 3)).toEqual([]);
      });
    });
  });

  it("a canvas over the device's maxTextureDimension2D is LIMIT_EXCEEDED, and the view stays as it was", async () => {
    await withContext(async (context) => {
      await withView(context, table, { x: 'x', y: 'y', size: 3, background: WHITE }, async (view) => {
        const max = context.device.limits.maxTextureDimension2D;
        const before = view.state;
        const error = await view.resize(10, max / 2 + 1, 2).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LimitError);
        expect((error as LimitError).code).toBe('LIMIT_EXCEEDED');
        expect((error as LimitError).details).toMatchObject({
          option: 'height',
          expected: max,
          actual: max + 2,
        });
        expect(view.state).toEqual(before);
      });
    });
  });

  it('size is in CSS pixels times the pixel ratio; resize changes the canvas and keeps the domain', async () => {
    await withContext(async (context) => {
      const domain = { x: [0, 16] as Range, y: [0, 10] as Range };
      await withView(
        context,
        table,
        { x: 'x', y: 'y', size: 3, domain, background: WHITE },
        async (view, target) => {
          const state = await view.resize(50, 40, 2);
          expect([state.width, state.height, state.pixelRatio]).toEqual([100, 80, 2]);
          const points = xs.map((x, r) => ({ ...pointCentre(x, ys[r]!, domain, 100, 80), rgba: FILL }));
          const image = await target.read();
          const result = imageDifferences(image, points, 6, WHITE_BYTES, 1);
          expect(result.differences).toEqual([]);
          expect(result.inside).toBeGreaterThanOrEqual(points.length * 16);
        },
      );
    });
  });
});

describe('points of a device pixel or less', () => {
  it('are drawn as single pixels, where the squares would be, and become squares again when they grow', async () => {
    // Centres on pixel centres: the pixel holding each is the one a 1-pixel square covers.
    const px = [5, 17, 40, 63, 79];
    const py = [3, 30, 59, 12, 44];
    const xs = px.map((p) => p + 0.5);
    const ys = py.map((p) => H - (p + 0.5));
    const table = new Table({ x: vectorFromArray(xs, new Float32()), y: vectorFromArray(ys, new Float32()) });
    const domain = { x: [0, W] as Range, y: [0, H] as Range };
    await withContext(async (context) => {
      await withView(
        context,
        table,
        { x: 'x', y: 'y', size: 0.5, pixelRatio: 2, domain, background: WHITE },
        async (view, target) => {
          const points = xs.map((x, r) => ({ ...pointCentre(x, ys[r]!, domain, W, H), rgba: FILL }));
          const pixels = imageDifferences(await target.read(), points, 1, WHITE_BYTES, 1);
          expect(pixels.differences).toEqual([]);
          expect(pixels.inside).toBe(points.length);
          await view.update({ size: 3 });
          expect(await frameDifferences(target, points, 6)).toEqual([]);
        },
      );
    });
  });
});

describe('custom shaders', () => {
  const xs = [1, 3, 5, 7];
  const ys = [1, 2, 3, 4];
  const table = new Table({ px: vectorFromArray(xs, new Float32()), py: vectorFromArray(ys, new Int32()) });
  // Squares of 6 device pixels, red where py > 2, through the accessors table.wgsl(['px', 'py']) declares.
  const code = /* wgsl */ `
struct Out { @builtin(position) position: vec4<f32>, @location(0) color: vec4<f32> }
@vertex fn vs(@builtin(vertex_index) v: u32, @builtin(instance_index) row: u32) -> Out {
  let corners = array<vec2<f32>, 6>(vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0),
    vec2(-1.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));
  let centre = awg_clip(vec2<f32>(px_value(row), f32(py_value(row))));
  let half = 3.0 / (0.5 * awg_view.canvas); // 3 device pixels in clip units
  var out: Out;
  out.position = vec4<f32>(centre + corners[v] * half, 0.0, 1.0);
  let a = awg_row_alpha(row);
  out.color = select(vec4<f32>(0.0, 0.0, a, a), vec4<f32>(a, 0.0, 0.0, a), py_value(row) > 2);
  return out;
}
@fragment fn fs(@location(0) color: vec4<f32>) -> @location(0) vec4<f32> { return color; }
`;

  it("draws the caller's vertex and fragment stages over the table's accessors, with the view's domain", async () => {
    await withContext(async (context) => {
      const domain = { x: [0, 8] as Range, y: [0, 5] as Range };
      const settings: RenderSettings = { shader: { code, columns: ['px', 'py'] }, domain, background: WHITE };
      await withView(context, table, settings, async (view, target) => {
        const colour = (y: number) => (y > 2 ? [255, 0, 0, 255] : [0, 0, 255, 255]) as ExpectedPoint['rgba'];
        const points = (d: { x: Range; y: Range }) =>
          xs.map((x, r) => ({ ...pointCentre(x, ys[r]!, d, W, H), rgba: colour(ys[r]!) }));
        expect(await frameDifferences(target, points(domain), 6)).toEqual([]);
        const zoomed = { x: [2, 6] as Range, y: [0, 5] as Range };
        await view.update({ domain: { x: zoomed.x } });
        expect(await frameDifferences(target, points(zoomed), 6)).toEqual([]);
        const wrongKind = await view.update({ x: 'px' }).catch((e: unknown) => e);
        expect([(wrongKind as ArgumentError).code, (wrongKind as ArgumentError).details.option]).toEqual([
          'INVALID_ARGUMENT',
          'x',
        ]);
      });
    });
  });

  it('WGSL that does not compile is INVALID_ARGUMENT with the line in the caller code; so is a missing entry point', async () => {
    await withContext(async (context) => {
      const { tables, tableId, source } = await stored(context, table);
      const target = new TextureTarget(context.device, W, H);
      try {
        const broken = `${code}\nfn oops() -> f32 { return undefined_thing; }`;
        const compile = await ViewRenderer.create(source, target, {
          shader: { code: broken, columns: ['px', 'py'] },
        }).catch((e: unknown) => e);
        expect(compile).toBeInstanceOf(ArgumentError);
        const line = broken.split('\n').findIndex((l) => l.includes('undefined_thing')) + 1;
        expect((compile as ArgumentError).message).toContain(`line ${line}:`);
        expect((compile as ArgumentError).message).toContain('undefined_thing');
        expect((compile as ArgumentError).details.option).toBe('shader.code');
        const entry = await ViewRenderer.create(source, target, {
          shader: { code, columns: ['px', 'py'], vertex: 'nope' },
        }).catch((e: unknown) => e);
        expect((entry as ArgumentError).code).toBe('INVALID_ARGUMENT');
        expect((entry as ArgumentError).message).toContain('nope');
        const noColumns = await ViewRenderer.create(source, target, { shader: { code } }).catch(
          (e: unknown) => e,
        );
        expect((noColumns as ArgumentError).message).toContain('px_value');
      } finally {
        target.destroy();
        tables.destroy(tableId);
      }
    });
  });
});

/** The README's custom shader: the first ```wgsl block of its section "Drawing tables". */
function readmeShader(): string {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Drawing tables'));
  const match = /```wgsl\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('no ```wgsl block in the README section "Drawing tables"');
  return match[1];
}

describe("the README's custom shader", () => {
  it('draws each row a square of its kind, sized after it, as triangle strips; null rows are left out', async () => {
    const xs = [-600, -200, 300, 700, 100];
    const ys = [-300000, 200000, -100000, 350000, 0];
    const kinds = [0, 1, 2, 7, 4];
    const table = new Table({
      x: vectorFromArray(xs, new Float32()),
      y: float32WithNulls(ys, [4]),
      kind: vectorFromArray(kinds, new Uint16()),
    });
    const domain = { x: [-1000, 1000] as Range, y: [-500000, 500000] as Range };
    const shader = {
      code: readmeShader(),
      columns: ['x', 'y', 'kind'],
      vertices: 4,
      topology: 'triangle-strip' as const,
    };
    await withContext(async (context) => {
      await withView(
        context,
        table,
        { shader, domain, size: 2, pixelRatio: 1.5, background: WHITE },
        async (_, target) => {
          const points = [0, 1, 2, 3].map((r) => ({
            ...pointCentre(xs[r]!, ys[r]!, domain, W, H),
            rgba: premultipliedBytes(hexColor(TABLEAU10[kinds[r]! % 10]!)),
            side: 2 * (1 + (kinds[r]! % 3)) * 1.5,
          }));
          expect(await frameDifferences(target, points, 3)).toEqual([]);
        },
      );
    });
  });
});

describe('misuse', () => {
  const table = new Table({
    x: vectorFromArray([1, 2], new Float32()),
    y: vectorFromArray([1, 2], new Float32()),
    xy: vectorFromArray(
      [
        [1, 2],
        [3, 4],
      ],
      new FixedSizeList(2, new Field('v', new Float32())),
    ),
    id: vectorFromArray([new Uint8Array([1, 2, 3, 4]), new Uint8Array([5, 6, 7, 8])], new FixedSizeBinary(4)),
  });

  async function refusal(settings: unknown): Promise<ArrowGpuError> {
    let error: unknown;
    await withContext(async (context) => {
      const { tables, tableId, source } = await stored(context, table);
      const target = new TextureTarget(context.device, W, H);
      error = await ViewRenderer.create(source, target, settings as RenderSettings).catch((e: unknown) => e);
      target.destroy();
      tables.destroy(tableId);
    });
    return error as ArrowGpuError;
  }

  it('an unknown column is NO_SUCH_COLUMN naming it', async () => {
    const error = await refusal({ x: 'x', y: 'nope' });
    expect(error).toBeInstanceOf(ColumnError);
    expect([error.code, error.details.column]).toEqual(['NO_SUCH_COLUMN', 'nope']);
  });

  for (const [column, encoding] of [
    ['xy', 'vector'],
    ['id', 'bytes'],
  ] as const) {
    it(`a ${encoding} column is INVALID_ARGUMENT naming it and its encoding`, async () => {
      const error = await refusal({ x: column, y: 'y' });
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details).toMatchObject({ column, option: 'x' });
      expect(error.message).toContain(`its encoding is ${encoding}`);
    });
  }

  for (const [settings, option] of [
    [{ y: 'y' }, 'x'],
    [{ x: 'x', y: 'y', size: 0 }, 'size'],
    [{ x: 'x', y: 'y', domain: { x: [1, 1] } }, 'domain.x'],
    [{ x: 'x', y: 'y', domain: { z: [0, 1] } }, 'domain.z'],
    [{ x: 'x', y: 'y', colour: 'x' }, 'colour'],
    [{ x: 'x', y: 'y', filterMode: 'blur' }, 'filterMode'],
    [{ x: 'x', y: 'y', background: [1, 1, 1] }, 'background'],
    [{ shader: { code: '' } }, 'shader.code'],
    [{ shader: { code: 'x', vertices: 0 } }, 'shader.vertices'],
    [{ shader: { code: 'x' }, x: 'x' }, 'x'],
  ] as const) {
    it(`${JSON.stringify(settings)} is INVALID_ARGUMENT naming ${option}`, async () => {
      const error = await refusal(settings);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details.option).toBe(option);
    });
  }
});

describe('views in the worker service', () => {
  it('a view on a lost device fails with DEVICE_LOST instead of drawing nothing', async () => {
    const table = new Table({
      x: vectorFromArray([1, 2], new Float32()),
      y: vectorFromArray([2, 1], new Float32()),
    });
    const bytes = tableToIPC(table, 'stream');
    const service = new LoaderService(dawnGpu(), async () => ({
      body: whole(bytes),
      bytesTotal: bytes.byteLength,
      readTail: tailOf(bytes),
    }));
    try {
      await service.init({ upload: 'staging' });
      const { tableId } = await service.load({ loadId: 1, url: 'test://render' });
      const canvas = new TextureCanvas(W, H) as unknown as OffscreenCanvas;
      const { viewId } = await service.render(canvas, {
        tableId,
        x: 'x',
        y: 'y',
        domain: { x: [0, 3], y: [0, 3] },
      });
      const context = await service.devices.opened();
      context?.device.destroy();
      await context?.device.lost;
      const lost = await service.updateView(viewId, { size: 4 }).catch((e: unknown) => e);
      expect((lost as ArrowGpuError).code).toBe('DEVICE_LOST');
    } finally {
      await service.close();
    }
  });

  it('a view dies with its table (NO_SUCH_COLUMN) or on its own (INVALID_ARGUMENT); a non-canvas is refused; nothing leaks', async () => {
    const table = new Table({
      x: vectorFromArray([1, 2, 3], new Float32()),
      y: vectorFromArray([3, 1, 2], new Float32()),
    });
    const bytes = tableToIPC(table, 'stream');
    const service = new LoaderService(dawnGpu(), async () => ({
      body: whole(bytes),
      bytesTotal: bytes.byteLength,
      readTail: tailOf(bytes),
    }));
    try {
      await service.init({ upload: 'staging' });
      const { tableId } = await service.load({ loadId: 1, url: 'test://render' });
      await service.trim();
      expect((await service.memory()).liveBuffers).toBe(2); // the table's two columns
      const canvas = new TextureCanvas(W, H);
      const first = await service.render(canvas as unknown as OffscreenCanvas, { tableId, x: 'x', y: 'y' });
      expect(first.frames).toBe(1);
      expect(first.domain.x).toEqual(paddedDomain([1, 3]));
      const image = await canvas.pixels();
      expect(image.data.some((v) => v !== 0)).toBe(true);
      const again = await service.updateView(first.viewId, { size: 5 });
      expect(again.frames).toBe(2);
      await service.destroyView(first.viewId);
      expect(canvas.configured).toBe(false);
      const destroyed = await service.updateView(first.viewId, { size: 3 }).catch((e: unknown) => e);
      expect((destroyed as ArgumentError).code).toBe('INVALID_ARGUMENT');

      const second = await service.render(new TextureCanvas(W, H) as unknown as OffscreenCanvas, {
        tableId,
        x: 'x',
        y: 'y',
      });
      const notCanvas = await service
        .render({} as OffscreenCanvas, { tableId, x: 'x', y: 'y' })
        .catch((e: unknown) => e);
      expect((notCanvas as ArgumentError).details.option).toBe('canvas');
      await service.destroyTable(tableId);
      const gone = await service.updateView(second.viewId, { size: 3 }).catch((e: unknown) => e);
      expect((gone as ColumnError).code).toBe('NO_SUCH_COLUMN');
      const resized = await service.resizeView(second.viewId, 10, 10).catch((e: unknown) => e);
      expect((resized as ColumnError).code).toBe('NO_SUCH_COLUMN');
      // The views' uniforms and the queries that found the domain went with the table.
      expect((await service.memory()).liveBuffers).toBe(0);
    } finally {
      await service.close();
    }
  });
});
