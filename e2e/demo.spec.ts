import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { RecordBatchReader } from 'apache-arrow';
import { DEMO_PATH } from '../scripts/demo-data.js';
import { FIXTURE_DIR } from './fixtures.js';
import { decodePng } from './png.js';

// The demo page (index.html) against the dev server, as `npm start` serves it. One page goes through
// the steps in order, so that each later step starts with an earlier table on screen. The GPU here may
// be SwiftShader (on the CPU), where millions of points take seconds a frame: the waits are long.

const SHOTS = join(import.meta.dirname, '.screenshots');
/** The scatter's background (style.css `.plot`). */
const PLOT_BACKGROUND = [0x0a, 0x0e, 0x13];
/** Figures that belong to one load: each shows `–` when no load is shown. */
const FIGURES = [
  '#rate',
  '#rows',
  '#bytes',
  '#bytes-total',
  '#batches',
  '#first',
  '#first-drawn',
  '#total',
  '#limit',
];

test.describe.configure({ mode: 'serial' });

let page: Page;
const pageErrors: string[] = [];

test.beforeAll(async ({ browser }) => {
  mkdirSync(SHOTS, { recursive: true });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

test.afterAll(async () => {
  await page.close();
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

/** The values of `columns` in a file, row by row (timestamps as epoch numbers, nulls as null). */
function readColumns(path: string, columns: readonly string[]): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = Object.fromEntries(columns.map((c) => [c, []]));
  for (const batch of RecordBatchReader.from(readFileSync(path))) {
    for (const name of columns) {
      const vector = batch.getChild(name);
      if (!vector) throw new Error(`${path} has no column ${name}`);
      const values = out[name] as (number | null)[];
      for (let i = 0; i < vector.length; i++) {
        const v = vector.get(i);
        values.push(v === null ? null : Number(v));
      }
    }
  }
  return out;
}

/** Rows of a file, counted batch by batch. */
function fileRows(path: string): number {
  let rows = 0;
  for (const batch of RecordBatchReader.from(readFileSync(path))) rows += batch.numRows;
  return rows;
}

/** Pixels of the scatter unlike its background, and the image (the note over it hidden). */
async function scatterPixels(
  on: Page = page,
  snapped = false,
): Promise<{ lit: number; data: Uint8Array; width: number; height: number }> {
  const note = on.locator('#scatter-note');
  await note.evaluate((element) => {
    element.style.visibility = 'hidden';
  });
  const image = decodePng(
    snapped
      ? await on.screenshot({ clip: await snappedRect(on), fullPage: true })
      : await on.locator('#plot').screenshot(),
  );
  await note.evaluate((element) => {
    element.style.visibility = '';
  });
  let lit = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    const far = [0, 1, 2].some(
      (c) => Math.abs((image.data[i + c] as number) - (PLOT_BACKGROUND[c] as number)) > 24,
    );
    if (far) lit++;
  }
  return { lit, data: image.data, width: image.width, height: image.height };
}

/** The device pixels (at ratio 1) the canvas `#scatter` covers on the page: its rectangle's edges rounded. */
function snappedRect(on: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  return on.locator('#scatter').evaluate((canvas) => {
    const r = canvas.getBoundingClientRect();
    const [x, y] = [Math.round(r.left + scrollX), Math.round(r.top + scrollY)];
    return { x, y, width: Math.round(r.right + scrollX) - x, height: Math.round(r.bottom + scrollY) - y };
  });
}

/** Pixels of `after` darker than in `before` by more than 48 (summed over red, green and blue). */
function darkened(before: Uint8Array, after: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < Math.min(before.length, after.length); i += 4) {
    const sum = (d: Uint8Array) => (d[i] as number) + (d[i + 1] as number) + (d[i + 2] as number);
    if (sum(before) - sum(after) > 48) n++;
  }
  return n;
}

/** Nothing of any table: every figure blank, no column to pick, no legend, no histogram, no point. */
async function expectNothingShown(): Promise<void> {
  for (const figure of FIGURES) await expect(page.locator(figure), figure).toHaveText('–');
  for (const picker of ['#pick-x', '#pick-y', '#pick-color'])
    await expect(page.locator(`${picker} option`), picker).toHaveCount(0);
  await expect(page.locator('#legend li')).toHaveCount(0);
  await expect(page.locator('#histograms > *')).toHaveCount(0);
  await expect(page.locator('#plot canvas')).toHaveCount(1);
  await expect(page.locator('#scatter')).not.toHaveAttribute('data-drawn', 'true');
  expect((await scatterPixels()).lit, 'lit pixels on the scatter').toBe(0);
}

async function loadUrl(url: string): Promise<void> {
  await page.locator('#url').fill(url);
  await page.locator('#load').click();
}

/** What a histogram shows: its column, bin edges, counts and brush. */
interface Shown {
  column: string;
  edges: number[];
  counts: number[];
  brush: [number, number] | null;
}

async function histograms(on: Page = page): Promise<Shown[]> {
  return on.locator('#histograms .hist').evaluateAll((elements) =>
    elements.map((e) => {
      const data = (e as HTMLElement).dataset;
      return {
        column: data.column as string,
        edges: JSON.parse(data.edges as string) as number[],
        counts: JSON.parse(data.counts as string) as number[],
        brush: data.brush ? (JSON.parse(data.brush) as string[]).map(Number) : null,
      } as Shown;
    }),
  );
}

/** Counts of `values` (rows where `keep`) in bins `[edges[i], edges[i + 1])`, as the CPU bins them. */
function cpuCounts(values: (number | null)[], edges: number[], keep: (row: number) => boolean): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  values.forEach((v, row) => {
    if (v === null || Number.isNaN(v) || !keep(row)) return;
    if (v < (edges[0] as number) || v >= (edges[edges.length - 1] as number)) return;
    let lo = 0;
    let hi = edges.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (v >= (edges[mid] as number)) lo = mid;
      else hi = mid;
    }
    counts[lo] = (counts[lo] as number) + 1;
  });
  return counts;
}

/** Drags across the middle fifth of `column`'s histogram, from 30% to 50% of its width. */
async function brushAcross(on: Page, column: string): Promise<void> {
  const chart = on.locator(`.hist[data-column="${column}"] canvas`);
  const box = (await chart.boundingBox()) as { x: number; y: number; width: number; height: number };
  await on.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await on.mouse.down();
  await on.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 4 });
  await on.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 4 });
  await on.mouse.up();
}

test('on open, the default data set loads and its every row is counted and drawn', async () => {
  test.setTimeout(420_000);
  const rows = fileRows(DEMO_PATH);
  await page.goto('/');
  await expect(page.locator('#message')).toContainText('Loaded', { timeout: 300_000 });
  await expect(page.locator('#rows')).toHaveText(rows.toLocaleString('en-US'));
  await expect(page.locator('#message')).toContainText(`Loaded ${rows.toLocaleString('en-US')} rows`);
  await expect(page.locator('#scatter')).toHaveAttribute('data-rows', String(rows), { timeout: 120_000 });
  await expect(page.locator('#scatter-note')).toHaveText('');
  expect((await scatterPixels()).lit).toBeGreaterThan(5_000);
  // The pickers offer the schema's columns, with the chosen ones selected.
  await expect(page.locator('#pick-x')).toHaveValue('pickup_lon');
  await expect(page.locator('#pick-y')).toHaveValue('pickup_lat');
  await expect(page.locator('#pick-color')).toHaveValue('zone');
  await expect(page.locator('#legend li')).toHaveCount(10);
  await expect(page.locator('#limit')).toContainText('Limited by');
  await expect(page.locator('#histograms .hist[data-counts]')).toHaveCount(4, { timeout: 240_000 });
  await page.screenshot({ path: join(SHOTS, 'demo-loaded.png'), fullPage: true });
});

test('a brush recounts the other histograms as a CPU filter of the data set does, and filters the scatter', async () => {
  test.setTimeout(420_000);
  const before = await histograms();
  expect(before.map((h) => h.column)).toEqual(['pickup_at', 'distance_km', 'fare', 'tip']);
  const scatterBefore = await scatterPixels();
  await brushAcross(page, 'fare');
  // Done when no query runs and the counts shown are of the brush drawn.
  const panel = page.locator('#histograms');
  await expect(panel).toHaveAttribute('data-state', 'idle', { timeout: 300_000 });
  await expect(page.locator('#brush-time')).toContainText(/brush → histograms \d+ ms · scatter \d+ ms/);
  const after = await histograms();
  const brush = after.find((h) => h.column === 'fare')?.brush as [number, number];
  expect(brush[0]).toBeLessThan(brush[1]);
  expect(JSON.parse((await panel.getAttribute('data-brushes')) as string)).toEqual({
    fare: brush.map(String),
  });

  const values = readColumns(DEMO_PATH, ['fare', 'pickup_at', 'distance_km', 'tip']);
  const fares = values.fare as (number | null)[];
  const kept = (row: number) => {
    const v = fares[row];
    return v !== null && v !== undefined && v >= brush[0] && v < brush[1];
  };
  const selected = fares.reduce<number>((n, _, row) => n + (kept(row) ? 1 : 0), 0);
  expect(selected).toBeGreaterThan(0);
  await expect(page.locator('#histograms')).toHaveAttribute('data-selected', String(selected));
  for (const shown of after.filter((h) => h.column !== 'fare')) {
    const column = values[shown.column] as (number | null)[];
    expect(shown.counts, shown.column).toEqual(cpuCounts(column, shown.edges, kept));
    // And a brush changed them: the counts before were those of every row.
    expect(before.find((h) => h.column === shown.column)?.counts).toEqual(
      cpuCounts(column, shown.edges, () => true),
    );
  }
  // The brushed histogram itself keeps every row's counts (no other brush).
  const fareShown = after.find((h) => h.column === 'fare') as Shown;
  expect(fareShown.counts).toEqual(cpuCounts(fares, fareShown.edges, () => true));

  // The scatter dims the rows outside the brush (most rows): many of its pixels turn darker.
  await expect
    .poll(async () => darkened(scatterBefore.data, (await scatterPixels()).data), { timeout: 60_000 })
    .toBeGreaterThan(scatterBefore.lit * 0.2);
  await page.screenshot({ path: join(SHOTS, 'demo-brushed.png'), fullPage: true });

  await page.locator('#clear-brush').click();
  await expect(page.locator('#histograms')).toHaveAttribute('data-selected', String(fares.length), {
    timeout: 300_000,
  });
});

test('a stream is drawn as it arrives: points show before its last batch has come', async () => {
  test.setTimeout(300_000);
  const rows = fileRows(join(FIXTURE_DIR, 'big-16.stream'));
  // A live stream: the schema and 3 batches at once, the rest only when released.
  await loadUrl('/live/big-16.stream?id=demo-progressive&first=4');
  await expect(page.locator('#scatter')).toHaveAttribute('data-drawn', 'true', { timeout: 120_000 });
  const drawn = Number(await page.locator('#scatter').getAttribute('data-rows'));
  expect(drawn).toBeGreaterThan(0);
  expect(drawn).toBeLessThan(rows);
  await expect(page.locator('#message')).not.toContainText('Loaded');
  expect((await scatterPixels()).lit).toBeGreaterThan(1_000);
  expect(Number((await page.locator('#rows').textContent())?.replaceAll(',', ''))).toBeLessThan(rows);

  await page.request.get('/live-next/demo-progressive?count=all');
  await expect(page.locator('#message')).toContainText(`Loaded ${rows.toLocaleString('en-US')} rows`, {
    timeout: 120_000,
  });
  await expect(page.locator('#scatter')).toHaveAttribute('data-rows', String(rows), { timeout: 120_000 });
  expect((await scatterPixels()).lit).toBeGreaterThan(1_000);
});

test('Cancel mid-load leaves no number, column or point of the load or of the table before it', async () => {
  // A fixture served at 1 MB/s: still loading when Cancel is pressed.
  await loadUrl('/data/big-16.stream?throttle=1000000');
  await expect(page.locator('#rows')).not.toHaveText('–', { timeout: 60_000 });
  await page.locator('#cancel').click();
  await expect(page.locator('#message')).toContainText('Load cancelled');
  await expect(page.locator('#message')).toContainText('ABORTED');
  await expectNothingShown();
  await expect(page.locator('#cancel')).toBeDisabled();
});

test('a 404 URL and non-Arrow data show readable errors and nothing of the table before them', async () => {
  test.setTimeout(180_000);
  // A small table first, so that there is something the errors must clear.
  await loadUrl('/data/many-batches.stream');
  await expect(page.locator('#message')).toContainText('Loaded 60,007 rows', { timeout: 60_000 });
  await expect(page.locator('#scatter')).toHaveAttribute('data-drawn', 'true', { timeout: 60_000 });

  await loadUrl('/no-such-file.arrow');
  await expect(page.locator('#message')).toContainText('The server refused the request');
  await expect(page.locator('#message')).toContainText('HTTP_STATUS');
  await expect(page.locator('#message')).toContainText('404');
  await expectNothingShown();

  await loadUrl('/data/many-batches.stream');
  await expect(page.locator('#message')).toContainText('Loaded 60,007 rows', { timeout: 60_000 });
  await page.locator('#file').setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('These are notes, not an Arrow IPC stream.\n'.repeat(20)),
  });
  await expect(page.locator('#message')).toContainText('This is not an Arrow IPC file or stream');
  await expect(page.locator('#message')).toContainText('NOT_ARROW');
  await expectNothingShown();
});

test('a local file loads through the worker like a URL', async () => {
  await page.locator('#file').setInputFiles({
    name: 'many-batches.arrow',
    mimeType: 'application/vnd.apache.arrow.file',
    buffer: readFileSync(join(FIXTURE_DIR, 'many-batches.arrow')),
  });
  await expect(page.locator('#message')).toContainText('Loaded 60,007 rows', { timeout: 60_000 });
  await expect(page.locator('#runs tbody tr').first()).toContainText('many-batches.arrow (local file)');
  await expect(page.locator('#scatter')).toHaveAttribute('data-rows', '60007', { timeout: 60_000 });
  expect((await scatterPixels()).lit).toBeGreaterThan(100);
});

test('at devicePixelRatio 2 in a phone-sized window the page fits and draws at full resolution', async ({
  browser,
}) => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.goto('/?url=/data/many-batches.stream');
  await expect(phone.locator('#message')).toContainText('Loaded 60,007 rows', { timeout: 60_000 });
  await expect(phone.locator('#scatter')).toHaveAttribute('data-rows', '60007', { timeout: 60_000 });
  const fit = await phone.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  expect(fit.scroll, 'no horizontal scrolling').toBeLessThanOrEqual(fit.width);
  const css = await phone.locator('#plot').evaluate((e) => [e.clientWidth, e.clientHeight]);
  const canvas = phone.locator('#scatter');
  await expect(canvas).toHaveAttribute('data-width', String(Math.round((css[0] as number) * 2)));
  await expect(canvas).toHaveAttribute('data-height', String(Math.round((css[1] as number) * 2)));
  await phone.screenshot({ path: join(SHOTS, 'demo-phone-dpr2.png'), fullPage: true });
  await phone.close();
});

/** A plot's pixel grid: which pixels some point must light, and which no point comes near. */
function expectedPixels(
  xs: (number | null)[],
  ys: (number | null)[],
  domain: { x: [number, number]; y: [number, number] },
  width: number,
  height: number,
): { lit: Uint8Array; near: Uint8Array } {
  const lit = new Uint8Array(width * height);
  const near = new Uint8Array(width * height);
  const [[x0, x1], [y0, y1]] = [domain.x, domain.y];
  xs.forEach((x, row) => {
    const y = ys[row];
    if (x === null || y === null || y === undefined) return;
    const px = ((x - x0) / (x1 - x0)) * width;
    const py = (1 - (y - y0) / (y1 - y0)) * height;
    const [cx, cy] = [Math.floor(px), Math.floor(py)];
    // Well inside its pixel, a point lights it whatever the f32 rounding; near an edge, either may be lit.
    const inside = px - cx > 0.05 && px - cx < 0.95 && py - cy > 0.05 && py - cy < 0.95;
    if (inside && cx < width && cy < height) lit[cy * width + cx] = 1;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const [nx, ny] = [cx + dx, cy + dy];
        if (nx >= 0 && ny >= 0 && nx < width && ny < height) near[ny * width + nx] = 1;
      }
  });
  return { lit, near };
}

test("on this page's device, the data set loads, the page's own pipeline draws each row where it lies, and the histograms are the CPU's", async ({
  browser,
}) => {
  test.setTimeout(600_000);
  const rows = fileRows(DEMO_PATH);
  const own = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  own.on('pageerror', (error) => errors.push(String(error)));
  await own.goto('/?device=page');
  await expect(own.locator('#device')).toHaveValue('page');
  await expect(own.locator('#device-note')).toContainText('GPU device: this page’s');
  await expect(own.locator('#adapter')).not.toHaveText(/no WebGPU|starting/);
  await expect(own.locator('#message')).toContainText(`Loaded ${rows.toLocaleString('en-US')} rows`, {
    timeout: 420_000,
  });
  await expect(own.locator('#message')).toContainText('with this page’s device');
  await expect(own.locator('#rows')).toHaveText(rows.toLocaleString('en-US'));
  // The histograms come after the last scatter (over every row): once they show, it is drawn.
  await expect(own.locator('#histograms .hist[data-counts]')).toHaveCount(4, { timeout: 240_000 });
  const canvas = own.locator('#scatter');
  await expect(canvas).toHaveAttribute('data-rows', String(rows));
  await expect(canvas).toHaveAttribute('aria-label', /this page’s device/);
  await own.screenshot({ path: join(SHOTS, 'demo-page-device.png'), fullPage: true });

  const values = readColumns(DEMO_PATH, [
    'pickup_lon',
    'pickup_lat',
    'pickup_at',
    'distance_km',
    'fare',
    'tip',
  ]);
  const extent = (name: string) => {
    const kept = (values[name] as (number | null)[]).filter((v): v is number => v !== null);
    return [kept.reduce((a, b) => Math.min(a, b)), kept.reduce((a, b) => Math.max(a, b))];
  };
  // The last scatter spans the columns' whole extent, as table.describe found it on the page's device.
  const domain = JSON.parse((await canvas.getAttribute('data-domain')) as string);
  expect(domain).toEqual({ x: extent('pickup_lon'), y: extent('pickup_lat') });

  const width = Number(await canvas.getAttribute('data-width'));
  const height = Number(await canvas.getAttribute('data-height'));
  const shot = await scatterPixels(own, true);
  expect([shot.width, shot.height]).toEqual([width, height]);
  const { lit, near } = expectedPixels(
    values.pickup_lon as (number | null)[],
    values.pickup_lat as (number | null)[],
    domain,
    width,
    height,
  );
  const wrong = { unlit: 0, stray: 0, mustLight: 0, mustStayBlank: 0 };
  for (let i = 0; i < width * height; i++) {
    const far = [0, 1, 2].some(
      (c) => Math.abs((shot.data[i * 4 + c] as number) - (PLOT_BACKGROUND[c] as number)) > 24,
    );
    if (lit[i]) wrong.mustLight++;
    if (!near[i]) wrong.mustStayBlank++;
    if (lit[i] && !far) wrong.unlit++;
    if (!near[i] && far) wrong.stray++;
  }
  expect(wrong.mustLight, 'pixels a point lies well inside').toBeGreaterThan(20_000);
  expect(wrong.mustStayBlank, 'pixels no point comes near').toBeGreaterThan(20_000);
  expect({ unlit: wrong.unlit, stray: wrong.stray }).toEqual({ unlit: 0, stray: 0 });

  // The histograms' queries ran on the page's device: their counts are those of the CPU over the file.
  const shown = await histograms(own);
  expect(shown.map((h) => h.column)).toEqual(['pickup_at', 'distance_km', 'fare', 'tip']);
  for (const h of shown)
    expect(h.counts, h.column).toEqual(cpuCounts(values[h.column] as (number | null)[], h.edges, () => true));
  await own.close();
  expect(errors, 'uncaught errors in the page').toEqual([]);
});

test("the GPU device switch reloads on the worker's device and back, kept in the URL; nulls are not drawn on the page's", async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const own = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  own.on('pageerror', (error) => errors.push(String(error)));
  const canvas = own.locator('#scatter');
  const loaded = async (device: string) => {
    await expect(own.locator('#message')).toContainText('Loaded 60,007 rows', { timeout: 120_000 });
    await expect(own.locator('#message')).toContainText(device);
    await expect(canvas).toHaveAttribute('data-rows', '60007', { timeout: 120_000 });
    await expect(own.locator('#histograms .hist[data-counts]')).not.toHaveCount(0, { timeout: 120_000 });
  };
  await own.goto('/?device=page&url=/data/many-batches.stream');
  await loaded('with this page’s device');
  await expect(own.locator('#pick-x')).toHaveValue('f32');
  await expect(own.locator('#pick-y')).toHaveValue('f64');

  // f32 has nulls: those rows are skipped, every other row lights its pixel (f64 is drawn as its f32).
  const path = join(FIXTURE_DIR, 'many-batches.stream');
  const values = readColumns(path, ['f32', 'f64']);
  const [xs, ys] = [values.f32, values.f64].map((c) =>
    (c as (number | null)[]).map((v) => v && Math.fround(v)),
  );
  const nulls = (xs as (number | null)[]).filter((v) => v === null).length;
  expect(nulls).toBeGreaterThan(0);
  const extent = (column: (number | null)[]) => {
    const kept = column.filter((v): v is number => v !== null);
    return [kept.reduce((a, b) => Math.min(a, b)), kept.reduce((a, b) => Math.max(a, b))];
  };
  const domain = JSON.parse((await canvas.getAttribute('data-domain')) as string);
  expect(domain).toEqual({ x: extent(xs as number[]), y: extent(ys as number[]) });
  await own.screenshot({ path: join(SHOTS, 'demo-page-device-nulls.png') });
  const shot = await scatterPixels(own, true);
  expect([shot.width, shot.height]).toEqual([
    Number(await canvas.getAttribute('data-width')),
    Number(await canvas.getAttribute('data-height')),
  ]);
  const { lit, near } = expectedPixels(xs as number[], ys as number[], domain, shot.width, shot.height);
  let unlit = 0;
  let stray = 0;
  for (let i = 0; i < shot.width * shot.height; i++) {
    const far = [0, 1, 2].some(
      (c) => Math.abs((shot.data[i * 4 + c] as number) - (PLOT_BACKGROUND[c] as number)) > 24,
    );
    if (lit[i] && !far) unlit++;
    if (!near[i] && far) stray++;
  }
  expect(lit.reduce((n, v) => n + v, 0)).toBeGreaterThan(1_000);
  expect({ unlit, stray }).toEqual({ unlit: 0, stray: 0 });

  // A brush recounts the other histograms on the page's device as a CPU filter does; the scatter says
  // why it cannot dim the rows outside it.
  await brushAcross(own, 'u8');
  const panel = own.locator('#histograms');
  await expect(panel).toHaveAttribute('data-brushes', /u8/, { timeout: 60_000 });
  await expect(panel).toHaveAttribute('data-state', 'idle', { timeout: 60_000 });
  await expect(own.locator('#scatter-note')).toContainText('no buffer to bind');
  const brushed = await histograms(own);
  const [lo, hi] = brushed.find((h) => h.column === 'u8')?.brush ?? [0, 0];
  const more = readColumns(
    path,
    brushed.map((h) => h.column),
  );
  const keep = (row: number) => {
    const v = more.u8?.[row];
    return v !== null && v !== undefined && v >= lo && v < hi;
  };
  await expect(panel).toHaveAttribute(
    'data-selected',
    String((more.u8 ?? []).filter((_, row) => keep(row)).length),
  );
  for (const h of brushed.filter((h) => h.column !== 'u8'))
    expect(h.counts, h.column).toEqual(cpuCounts(more[h.column] as (number | null)[], h.edges, keep));

  await own.locator('#device').selectOption('worker');
  await expect(own).toHaveURL(/device=worker/);
  await expect(own.locator('#device-note')).toContainText('GPU device: the worker’s');
  await loaded('with staging');
  await expect(canvas).toHaveAttribute('aria-label', /in the worker/);

  await own.locator('#device').selectOption('page');
  await expect(own).toHaveURL(/device=page/);
  await loaded('with this page’s device');
  await expect(canvas).toHaveAttribute('aria-label', /this page’s device/);
  await own.close();
  expect(errors, 'uncaught errors in the page').toEqual([]);
});
