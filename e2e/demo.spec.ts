import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { RecordBatchReader } from 'apache-arrow';
import { DEMO_PATH } from '../scripts/demo-data.js';
import { decodePng } from './png.js';

// The demo page (index.html) against the dev server, as `npm start` serves it: one page goes through
// the steps in order, so that each later step starts with an earlier table on screen.

const SHOTS = join(import.meta.dirname, '.screenshots');
/** The scatter's background (style.css `.plot`). */
const PLOT_BACKGROUND = [0x0a, 0x0e, 0x13];
/** Figures that belong to one load: each shows `–` when no load is shown. */
const FIGURES = ['#rate', '#rows', '#bytes', '#bytes-total', '#batches', '#first', '#total', '#limit'];

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

/** Rows of the data set, counted from the file itself. */
function datasetRows(path: string): number {
  let rows = 0;
  for (const batch of RecordBatchReader.from(readFileSync(path))) rows += batch.numRows;
  return rows;
}

/** Pixels of the scatter that are not its background (the note over it hidden while it is taken). */
async function litPixels(): Promise<number> {
  const note = page.locator('#scatter-note');
  await note.evaluate((element) => {
    element.style.visibility = 'hidden';
  });
  const image = decodePng(await page.locator('#plot').screenshot());
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
  return lit;
}

/** Nothing of any table: every figure blank, no column to pick, no legend, no histogram, no point. */
async function expectNothingShown(): Promise<void> {
  for (const figure of FIGURES) await expect(page.locator(figure), figure).toHaveText('–');
  for (const picker of ['#pick-x', '#pick-y', '#pick-color'])
    await expect(page.locator(`${picker} option`), picker).toHaveCount(0);
  await expect(page.locator('#legend li')).toHaveCount(0);
  await expect(page.locator('#histograms > *')).toHaveCount(0);
  await expect(page.locator('#scatter')).not.toHaveAttribute('data-drawn', 'true');
  expect(await litPixels(), 'lit pixels on the scatter').toBe(0);
}

async function loadUrl(url: string): Promise<void> {
  await page.locator('#url').fill(url);
  await page.locator('#load').click();
}

test('on open, the default data set loads and its every row is counted and drawn', async () => {
  test.setTimeout(300_000);
  const rows = datasetRows(DEMO_PATH);
  await page.goto('/');
  await expect(page.locator('#message')).toContainText('Loaded', { timeout: 240_000 });
  await expect(page.locator('#rows')).toHaveText(rows.toLocaleString('en-US'));
  await expect(page.locator('#message')).toContainText(`Loaded ${rows.toLocaleString('en-US')} rows`);
  await expect(page.locator('#scatter')).toHaveAttribute('data-drawn', 'true', { timeout: 120_000 });
  await expect(page.locator('#scatter-note')).toHaveText('');
  expect(await litPixels()).toBeGreaterThan(5_000);
  // The pickers offer the schema's columns, with the chosen ones selected.
  await expect(page.locator('#pick-x')).toHaveValue('pickup_lon');
  await expect(page.locator('#pick-y')).toHaveValue('pickup_lat');
  await expect(page.locator('#pick-color')).toHaveValue('zone');
  await expect(page.locator('#legend li')).toHaveCount(10);
  await expect(page.locator('#limit')).toContainText('Limited by');
  await page.screenshot({ path: join(SHOTS, 'demo-loaded.png'), fullPage: true });
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
  const bytes = readFileSync(join(import.meta.dirname, '.fixtures/many-batches.arrow'));
  await page.locator('#file').setInputFiles({
    name: 'many-batches.arrow',
    mimeType: 'application/vnd.apache.arrow.file',
    buffer: bytes,
  });
  await expect(page.locator('#message')).toContainText('Loaded 60,007 rows', { timeout: 60_000 });
  await expect(page.locator('#runs tbody tr').first()).toContainText('many-batches.arrow (local file)');
  await expect(page.locator('#scatter')).toHaveAttribute('data-drawn', 'true', { timeout: 60_000 });
  expect(await litPixels()).toBeGreaterThan(100);
});

test('at devicePixelRatio 2 in a phone-sized window the page fits and draws at full resolution', async ({
  browser,
}) => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.goto('/?url=/data/many-batches.stream');
  await expect(phone.locator('#message')).toContainText('Loaded 60,007 rows', { timeout: 60_000 });
  await expect(phone.locator('#scatter')).toHaveAttribute('data-drawn', 'true', { timeout: 60_000 });
  const fit = await phone.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  expect(fit.scroll, 'no horizontal scrolling').toBeLessThanOrEqual(fit.width);
  const plot = phone.locator('#plot');
  const css = await plot.evaluate((e) => [e.clientWidth, e.clientHeight]);
  const canvas = phone.locator('#scatter');
  await expect(canvas).toHaveAttribute('data-width', String(Math.round((css[0] as number) * 2)));
  await expect(canvas).toHaveAttribute('data-height', String(Math.round((css[1] as number) * 2)));
  await phone.screenshot({ path: join(SHOTS, 'demo-phone-dpr2.png'), fullPage: true });
  await phone.close();
});
