import { expect, test } from '@playwright/test';

test('the demo page loads its default data on open and shows rows, throughput and the columns read back', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto('/');
  await expect(page.locator('#status')).toContainText('Loaded 4,194,304 rows', { timeout: 60_000 });
  expect(Number(await page.locator('#rate').textContent())).toBeGreaterThan(0);
  await expect(page.locator('#rows')).toHaveText('4,194,304');
  const rows = page.locator('#columns tbody tr');
  await expect(rows).toHaveCount(4);
  await expect(rows.first()).toContainText('Float32');
  await expect(page.locator('#adapter')).toContainText('maxBufferSize');
  expect(errors).toEqual([]);
});
