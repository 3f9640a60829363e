import type { Page } from '@playwright/test';
import { Float32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { DEFAULT_POINT_COLOR, DIM_OPACITY, hexColor } from '../src/core/gpu/render/palettes.js';
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
import { expect, test } from './support.js';

// view.update({ filter: filter }): a view draws the rows of a table.filter() mask, checked pixel by pixel against
// where the CPU places the rows the predicate keeps.

const W = 160;
const H = 120;
const ROWS = 40;
const XS = Array.from({ length: ROWS }, (_, r) => (r % 10) + 0.5);
const YS = Array.from({ length: ROWS }, (_, r) => Math.floor(r / 10) + 0.5);
const DOMAIN = { x: [0, 10] as [number, number], y: [0, 4] as [number, number] };
const FILL = premultipliedBytes(hexColor(DEFAULT_POINT_COLOR));
const WHITE: [number, number, number, number] = [1, 1, 1, 1];

interface FilterScene {
  hooks: TestLoader;
  table: Lib.GpuTable;
  view: Lib.RenderView;
  filters: Lib.GpuFilter[];
}

declare global {
  interface Window {
    filterScene: FilterScene;
  }
}

const POINTS: ExpectedPoint[] = XS.map((x, r) => ({
  ...pointCentre(x, YS[r] as number, DOMAIN, W, H),
  rgba: FILL,
}));

/** Waits until the canvas shows `points` (8 CSS pixels a side) on white. */
async function expectFrame(page: Page, points: ExpectedPoint[]): Promise<void> {
  let last: string[] = ['no screenshot yet'];
  await expect
    .poll(
      async () => {
        const image = decodePng(await page.locator('#plot').screenshot());
        last = imageDifferences(image, points, 8, [255, 255, 255, 255], 2).differences;
        return last;
      },
      { timeout: 15_000 },
    )
    .toEqual([]);
}

test.afterEach(async ({ harnessPage }) => {
  await harnessPage.evaluate(() => window.filterScene?.hooks.loader.close());
});

test('a view draws the rows a GpuFilter keeps, dims or hides the others, and every row again without', async ({
  harnessPage,
}) => {
  const ipc = Buffer.from(
    tableToIPC(
      new Table({ x: vectorFromArray(XS, new Float32()), y: vectorFromArray(YS, new Float32()) }),
      'stream',
    ),
  ).toString('base64');
  await harnessPage.evaluate(
    async ({ ipc, W, H, DOMAIN, WHITE }) => {
      const hooks = await window.harness.testLoader();
      const table = await hooks.loader.load(window.harness.tableUrl(ipc));
      const canvas = window.harness.offscreen('plot', W, H);
      const view = await hooks.loader.render(canvas, {
        table,
        x: 'x',
        y: 'y',
        size: 8,
        domain: DOMAIN,
        background: WHITE,
        filterMode: 'hide',
      });
      // x in [2, 6) and y in [1, 3): rows 12–15 and 22–25.
      const filter = await table.filter({
        and: [
          { column: 'x', range: [2, 6] },
          { column: 'y', range: [1, 3] },
        ],
      });
      window.filterScene = { hooks, table, view, filters: [filter] };
      await view.update({ filter: filter });
    },
    { ipc, W, H, DOMAIN, WHITE },
  );
  const kept = (r: number) => XS[r]! >= 2 && XS[r]! < 6 && YS[r]! >= 1 && YS[r]! < 3;
  await expectFrame(
    harnessPage,
    POINTS.filter((_, r) => kept(r)),
  );

  await harnessPage.evaluate(() => window.filterScene.view.update({ filterMode: 'dim' }));
  const dimmed = overBytes(hexColor(DEFAULT_POINT_COLOR), DIM_OPACITY, [1, 1, 1]);
  await expectFrame(
    harnessPage,
    POINTS.map((p, r) => (kept(r) ? p : { ...p, rgba: dimmed })),
  );

  await harnessPage.evaluate(() => window.filterScene.view.update({ filter: null }));
  await expectFrame(harnessPage, POINTS);

  // Destroying the filter a view draws with makes it draw every row, never a freed mask.
  await harnessPage.evaluate(async () => {
    const { view, filters } = window.filterScene;
    await view.update({ filter: filters[0] as Lib.GpuFilter });
    await (filters[0] as Lib.GpuFilter).destroy();
    await view.update({ opacity: 1 });
  });
  await expectFrame(harnessPage, POINTS);
});

test("view.filter refuses another table's filter, a destroyed one and anything but a GpuFilter", async ({
  harnessPage,
}) => {
  const errors = await harnessPage.evaluate(
    async ({ W, H }) => {
      const hooks = await window.harness.testLoader();
      const url = '/data/one-batch.stream';
      const a = await hooks.loader.load(url);
      const b = await hooks.loader.load(url);
      const view = await hooks.loader.render(window.harness.offscreen('plot', W, H), {
        table: a,
        x: 'f32',
        y: 'f64',
      });
      const other = await b.filter({ column: 'f32', range: [-Infinity, 0] });
      const gone = await a.filter({ column: 'f32', range: [0, Infinity] });
      await gone.destroy();
      window.filterScene = { hooks, table: a, view, filters: [other] };
      const codeOf = (promise: Promise<unknown>) =>
        promise.then(
          () => 'resolved',
          (error: { code?: string; message: string }) => `${error.code}: ${error.message}`,
        );
      return [
        await codeOf(view.update({ filter: other })),
        await codeOf(view.update({ filter: gone })),
        await codeOf(view.update({ filter: { filterId: 1 } as unknown as Lib.GpuFilter })),
      ];
    },
    { W, H },
  );
  expect(errors[0]).toMatch(/^INVALID_ARGUMENT: .*made on table \d+, not on table \d+/);
  expect(errors[1]).toMatch(/^INVALID_ARGUMENT: .*was destroyed/);
  expect(errors[2]).toMatch(/^INVALID_ARGUMENT: render: filter must be a GpuFilter/);
});
