import type { Page } from '@playwright/test';
import {
  Float32,
  Int32,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { DEFAULT_POINT_COLOR, DIM_OPACITY, hexColor, TABLEAU10 } from '../src/core/gpu/render/palettes.js';
import type * as Lib from '../src/index.js';
import {
  type ExpectedPoint,
  imageDifferences,
  overBytes,
  pointCentre,
  premultipliedBytes,
} from '../test/support/point-image.js';
import type { TestLoader } from './pages/harness.js';
import { decodePng } from './png.js';
import { expect, fixtureBytes, test } from './support.js';

// The worker draws tables on a transferred canvas; each frame is checked on a screenshot of the canvas
// element (decoded here), pixel by pixel against the image the points make when placed on the CPU.

const W = 160;
const H = 120;
type Range = [number, number];

/** What a spec keeps in the page between its steps. */
interface Scene {
  hooks: TestLoader;
  loader: Lib.Loader;
  table: Lib.GpuTable;
  view: Lib.RenderView | null;
  filter?: Lib.GpuFilter;
}

declare global {
  interface Window {
    scene: Scene;
  }
}

/** A table of Float32 columns. */
function floats(columns: Record<string, number[]>): Table {
  return new Table(
    Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, vectorFromArray(v, new Float32())])),
  );
}

function base64(table: Table): string {
  return Buffer.from(tableToIPC(table, 'stream')).toString('base64');
}

/** Loads `table` on a test loader in the page (kept as `window.scene`), and draws it on canvas `#plot`. */
async function draw(page: Page, table: Table, settings: Lib.RenderSettings): Promise<Lib.RenderState> {
  return page.evaluate(
    async ({ ipc, settings, W, H }) => {
      const hooks = await window.harness.testLoader();
      const { loader } = hooks;
      const table = await loader.load(window.harness.tableUrl(ipc));
      window.scene = { hooks, loader, table, view: null };
      const canvas = window.harness.offscreen('plot', W, H);
      window.scene.view = await loader.render(canvas, { table, ...settings });
      return window.scene.view.state;
    },
    { ipc: base64(table), settings, W, H },
  );
}

/** The pixels of `#plot` as the page shows them. */
async function screenshot(page: Page) {
  const image = decodePng(await page.locator('#plot').screenshot());
  return { width: image.width, height: image.height, data: image.data };
}

/**
 * Waits until the canvas shows `points` (side `size` CSS pixels) on white: the worker's frame reaches
 * the page a moment after the call that drew it resolves. Fails with the differences left.
 */
async function expectFrame(
  page: Page,
  points: ExpectedPoint[],
  size: number,
  tolerance = 2,
  minInside = points.length,
): Promise<void> {
  let last = { differences: ['no screenshot yet'], inside: 0, outside: 0 };
  await expect
    .poll(
      async () => {
        last = imageDifferences(await screenshot(page), points, size, [255, 255, 255, 255], tolerance);
        return last.differences;
      },
      { timeout: 15_000 },
    )
    .toEqual([]);
  expect(last.inside, 'pixels checked inside points').toBeGreaterThan(minInside);
  expect(last.outside, 'pixels checked outside points').toBeGreaterThan(0);
}

const FILL = premultipliedBytes(hexColor(DEFAULT_POINT_COLOR));
const WHITE: [number, number, number, number] = [1, 1, 1, 1];

test.afterEach(async ({ harnessPage }) => {
  await harnessPage.evaluate(() => window.scene?.loader.close());
});

test('points land where their values say: all in one quadrant, the rest of the canvas untouched', async ({
  harnessPage,
}) => {
  const xs = [6, 7.5, 9, 8];
  const ys = [6, 9, 7, 5.5];
  const table = floats({ x: xs, y: ys });
  const domain = { x: [0, 10] as Range, y: [0, 10] as Range };
  const state = await draw(harnessPage, table, { x: 'x', y: 'y', size: 8, domain, background: WHITE });
  expect([state.width, state.height, state.frames]).toEqual([W, H, 1]);
  const points = xs.map((x, r) => ({ ...pointCentre(x, ys[r]!, domain, W, H), rgba: FILL }));
  expect(points.every((p) => p.x > W / 2 && p.y < H / 2)).toBe(true);
  await expectFrame(harnessPage, points, 8);
});

test('colour by a dictionary column gives the Tableau 10 colour of each code', async ({ harnessPage }) => {
  const kinds = ['oak', 'elm', 'ash', 'oak', 'yew', 'fir', 'elm'];
  const xs = kinds.map((_, r) => r + 1);
  const table = new Table({
    x: vectorFromArray(xs, new Float32()),
    y: vectorFromArray(
      xs.map(() => 1),
      new Float32(),
    ),
    kind: vectorFromArray(kinds, new Utf8()),
  });
  const domain = { x: [0, 8] as Range, y: [0, 2] as Range };
  await draw(harnessPage, table, { x: 'x', y: 'y', color: 'kind', size: 10, domain, background: WHITE });
  const dictionary = (await harnessPage.evaluate(() => window.scene.table.dictionary('kind'))) as string[];
  const points = kinds.map((kind, r) => ({
    ...pointCentre(xs[r]!, 1, domain, W, H),
    rgba: premultipliedBytes(hexColor(TABLEAU10[dictionary.indexOf(kind)]!)),
  }));
  await expectFrame(harnessPage, points, 10);
});

test('update: a new domain pans the points, a new size grows them; resize changes the canvas', async ({
  harnessPage,
}) => {
  const xs = [2, 4, 6, 8];
  const ys = [1, 3, 2, 4];
  const table = floats({ x: xs, y: ys });
  const domain = { x: [0, 10] as Range, y: [0, 5] as Range };
  await draw(harnessPage, table, { x: 'x', y: 'y', size: 6, domain, background: WHITE });
  const at = (d: { x: Range; y: Range }, w = W, h = H) =>
    xs.map((x, r) => ({ ...pointCentre(x, ys[r]!, d, w, h), rgba: FILL }));
  await expectFrame(harnessPage, at(domain), 6);

  const panned = { x: [-3, 7] as Range, y: [0, 5] as Range };
  const state = await harnessPage.evaluate(
    (x) => (window.scene.view as Lib.RenderView).update({ domain: { x }, size: 10 }),
    panned.x,
  );
  expect(state.domain).toEqual({ ...panned, color: null });
  await expectFrame(harnessPage, at(panned), 10);

  const resized = await harnessPage.evaluate(async () => {
    const canvas = document.getElementById('plot') as HTMLCanvasElement;
    canvas.style.width = '200px';
    canvas.style.height = '100px';
    return (window.scene.view as Lib.RenderView).resize(200, 100, 1);
  });
  expect([resized.width, resized.height]).toEqual([200, 100]);
  await expectFrame(harnessPage, at(panned, 200, 100), 10);
});

test('a filter of the table hides the rows outside it, or dims them under the others; its destroy lifts it', async ({
  harnessPage,
}) => {
  const rows = 40;
  const xs = Array.from({ length: rows }, (_, r) => (r % 10) + 0.5);
  const ys = Array.from({ length: rows }, (_, r) => Math.floor(r / 10) + 0.5);
  const ks = Array.from({ length: rows }, (_, r) => (r * 7) % 3);
  const table = new Table({
    x: vectorFromArray(xs, new Float32()),
    y: vectorFromArray(ys, new Float32()),
    k: vectorFromArray(ks, new Int32()),
  });
  const domain = { x: [0, 10] as Range, y: [0, 4] as Range };
  await draw(harnessPage, table, { x: 'x', y: 'y', size: 8, domain, background: WHITE, filterMode: 'hide' });
  const all = xs.map((x, r) => ({ ...pointCentre(x, ys[r]!, domain, W, H), rgba: FILL }));
  const kept = (r: number) => ks[r] === 1;
  const count = await harnessPage.evaluate(async () => {
    const { table } = window.scene;
    const filter = await table.filter({ column: 'k', in: [1] });
    window.scene.filter = filter;
    await (window.scene.view as Lib.RenderView).update({ filter });
    return filter.count;
  });
  expect(count).toBe(ks.filter((k) => k === 1).length);
  await expectFrame(
    harnessPage,
    all.filter((_, r) => kept(r)),
    8,
  );
  await harnessPage.evaluate(() => (window.scene.view as Lib.RenderView).update({ filterMode: 'dim' }));
  const dimmed = overBytes(hexColor(DEFAULT_POINT_COLOR), DIM_OPACITY, [1, 1, 1]);
  await expectFrame(
    harnessPage,
    all.map((p, r) => (kept(r) ? p : { ...p, rgba: dimmed })),
    8,
  );
  // A filter of another table is refused; a destroyed filter no longer applies.
  const result = await harnessPage.evaluate(async (ipc) => {
    const { loader, view, filter } = window.scene;
    const other = await loader.load(window.harness.tableUrl(ipc));
    const foreign = await other.filter({ column: 'k', in: [1] });
    const refused = await window.harness.settle((view as Lib.RenderView).update({ filter: foreign }));
    await filter?.destroy();
    await (view as Lib.RenderView).update({ size: 8 });
    return refused;
  }, base64(table));
  expect([result.code, result.details?.option]).toEqual(['INVALID_ARGUMENT', 'filter']);
  await expectFrame(harnessPage, all, 8);
  // A view made with a filter draws only its rows from its first frame.
  await harnessPage.evaluate(
    async ({ domain, W, H }) => {
      const { loader, table } = window.scene;
      const filter = await table.filter({ column: 'k', in: [1] });
      const canvas = window.harness.offscreen('plot', W, H);
      const background: [number, number, number, number] = [1, 1, 1, 1];
      const settings = { x: 'x', y: 'y', size: 8, domain, background };
      window.scene.view = await loader.render(canvas, { table, ...settings, filter, filterMode: 'hide' });
    },
    { domain, W, H },
  );
  await expectFrame(
    harnessPage,
    all.filter((_, r) => kept(r)),
    8,
  );
});

test('a view of a table still loading draws the rows that land later, with no call, new chunks included', async ({
  harnessPage,
}) => {
  // many-batches.stream: 1000-row batches; the server sends the schema and the first batch, then waits.
  // A table from `open` has a first chunk of twice the first batch: later rows land in a second, larger one.
  const fixture = 'many-batches.stream';
  const source = tableFromIPC(fixtureBytes(fixture));
  const [xs, ys] = ['u16', 'i16'].map((name) => source.getChild(name) as Vector);
  const domain = { x: [0, 65536] as Range, y: [-32768, 32768] as Range };
  const pointsOf = (rows: number) =>
    Array.from({ length: rows }, (_, r) => [xs!.get(r) as number | null, ys!.get(r) as number | null])
      .filter(([x, y]) => x !== null && y !== null)
      .map(([x, y]) => ({ ...pointCentre(x!, y!, domain, W, H), rgba: FILL }));
  const id = `grow-${Math.random()}`;
  const first = await harnessPage.evaluate(
    async ({ fixture, id, domain, W, H }) => {
      const hooks = await window.harness.testLoader();
      const { loader } = hooks;
      let landed = () => {};
      const firstBatch = new Promise<void>((resolve) => (landed = resolve));
      const table = await loader.open(`/live/${fixture}?id=${id}`, { onBatch: () => landed() });
      window.scene = { hooks, loader, table, view: null };
      await firstBatch;
      const canvas = window.harness.offscreen('plot', W, H);
      const settings = {
        x: 'u16',
        y: 'i16',
        size: 2,
        domain,
        background: [1, 1, 1, 1] as [number, number, number, number],
      };
      window.scene.view = await loader.render(canvas, { table, ...settings });
      return { rows: table.numRows, frames: window.scene.view.state.frames };
    },
    { fixture, id, domain, W, H },
  );
  expect(first).toEqual({ rows: 1000, frames: 1 });
  // Points overlap: at least a pixel checked inside every other one.
  await expectFrame(harnessPage, pointsOf(1000), 2, 2, 500);
  const later = await harnessPage.evaluate(async (id) => {
    let rows = 0;
    let failure: string | null = null;
    window.scene.table.done.catch((error: unknown) => {
      failure = String(error);
    });
    const released = await fetch(`/live-next/${id}?count=5`);
    const deadline = performance.now() + 60_000;
    while (rows < 6000 && failure === null && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      rows = window.scene.table.numRows;
    }
    const log = await (await fetch(`/live-log/${id}`)).text();
    const state = { released: released.status, failure, log };
    return { rows, chunks: window.scene.table.columns[0]?.chunks.length ?? 0, state };
  }, id);
  // A load that stops short says why (its error, what the server sent) rather than timing out.
  expect(later.rows, JSON.stringify(later.state)).toBe(6000);
  expect(later.chunks, 'rows in a chunk made after the view').toBeGreaterThan(1);
  // The view was not updated: the worker redraws it as rows land.
  await expectFrame(harnessPage, pointsOf(6000), 2, 2, 3000);
});

test("a custom shader draws with the table's accessors", async ({ harnessPage }) => {
  const table = new Table({
    px: vectorFromArray([2, 5, 8], new Float32()),
    level: vectorFromArray([1, 2, 3], new Int32()),
  });
  // A 12-pixel square per row at (px, level), green.
  const code = /* wgsl */ `
@vertex fn vs(@builtin(vertex_index) v: u32, @builtin(instance_index) row: u32) -> @builtin(position) vec4<f32> {
  let corners = array<vec2<f32>, 6>(vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0),
    vec2(-1.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));
  let centre = awg_clip(vec2<f32>(px_value(row), f32(level_value(row))));
  return vec4<f32>(centre + corners[v] * 6.0 / (0.5 * awg_view.canvas), 0.0, 1.0);
}
@fragment fn fs() -> @location(0) vec4<f32> { return vec4<f32>(0.0, 1.0, 0.0, 1.0); }
`;
  const domain = { x: [0, 10] as Range, y: [0, 4] as Range };
  await draw(harnessPage, table, { shader: { code, columns: ['px', 'level'] }, domain, background: WHITE });
  const points = [2, 5, 8].map((x, r) => ({
    ...pointCentre(x, r + 1, domain, W, H),
    rgba: [0, 255, 0, 255] as const,
  }));
  await expectFrame(harnessPage, points, 12);
});

test('destroy: a destroyed view refuses calls (INVALID_ARGUMENT), a destroyed table its views (NO_SUCH_COLUMN); nothing leaks', async ({
  harnessPage,
}) => {
  const table = floats({ x: [1, 2, 3], y: [3, 1, 2] });
  await draw(harnessPage, table, { x: 'x', y: 'y' });
  const result = await harnessPage.evaluate(async (W) => {
    const { loader, table } = window.scene;
    const view = window.scene.view as Lib.RenderView;
    await view.destroy();
    const afterDestroy = await window.harness.settle(view.update({ size: 4 }));
    const other = await loader.render(window.harness.offscreen('other', W, W), { table, x: 'x', y: 'y' });
    await table.destroy();
    const afterTable = await window.harness.settle(other.update({ size: 4 }));
    const resize = await window.harness.settle(other.resize(10, 10));
    const render = await window.harness.settle(
      loader.render(window.harness.offscreen('third', W, W), { table, x: 'x', y: 'y' }),
    );
    await loader.trim();
    return { afterDestroy, afterTable, resize, render, memory: await loader.memory() };
  }, W);
  expect([result.afterDestroy.code, result.afterDestroy.details?.option]).toEqual([
    'INVALID_ARGUMENT',
    'view',
  ]);
  expect(result.afterTable.code).toBe('NO_SUCH_COLUMN');
  expect(result.resize.code).toBe('NO_SUCH_COLUMN');
  expect(result.render.code).toBe('NO_SUCH_COLUMN');
  expect(result.memory.liveBuffers).toBe(0);
});

test('misuse: not an OffscreenCanvas, a table of another loader, an unknown column, columns that cannot be drawn', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { settle, lib, offscreen } = window.harness;
    const loader = await lib.createLoader();
    const otherLoader = await lib.createLoader();
    try {
      const table = await loader.load('/data/every-type.stream');
      const foreign = await otherLoader.load('/data/every-type.stream');
      const element = document.createElement('canvas');
      const render = (canvas: unknown, options: Record<string, unknown>) =>
        settle(loader.render(canvas as OffscreenCanvas, { table, x: 'f32', y: 'i32', ...options }));
      return {
        element: await render(element, {}),
        object: await render({ width: 10, height: 10 }, {}),
        foreign: await render(offscreen('a', 10, 10), { table: foreign }),
        unknown: await render(offscreen('b', 10, 10), { y: 'nope' }),
        bytes: await render(offscreen('c', 10, 10), { x: 'digest' }),
        vector: await render(offscreen('d', 10, 10), { color: 'xy' }),
        option: await render(offscreen('e', 10, 10), { size: -1 }),
      };
    } finally {
      await loader.close();
      await otherLoader.close();
    }
  });
  expect([result.element.code, result.element.details?.option]).toEqual(['INVALID_ARGUMENT', 'canvas']);
  expect(result.element.message).toContain('transferControlToOffscreen');
  expect([result.object.code, result.object.details?.option]).toEqual(['INVALID_ARGUMENT', 'canvas']);
  expect([result.foreign.code, result.foreign.details?.option]).toEqual(['INVALID_ARGUMENT', 'table']);
  expect([result.unknown.code, result.unknown.details?.column]).toEqual(['NO_SUCH_COLUMN', 'nope']);
  expect([result.bytes.code, result.bytes.details?.column]).toEqual(['INVALID_ARGUMENT', 'digest']);
  expect(result.bytes.message).toContain('bytes');
  expect([result.vector.code, result.vector.details?.column]).toEqual(['INVALID_ARGUMENT', 'xy']);
  expect(result.vector.message).toContain('vector');
  expect([result.option.code, result.option.details?.option]).toEqual(['INVALID_ARGUMENT', 'size']);
  for (const settled of Object.values(result)) expect(settled.isArrowGpuError).toBe(true);
});
