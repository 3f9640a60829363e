import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { tableFromIPC, type Vector } from 'apache-arrow';
import { FIXTURE_DIR } from './fixtures.js';
import type { ColumnDigest } from './pages/harness.js';

/** The test page with the library loaded, from source or from dist/ depending on the project. */
export const test = base.extend<{ harnessPage: Page }>({
  harnessPage: async ({ page }, use, testInfo) => {
    const mode = (testInfo.project.metadata as { mode: string }).mode;
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`/e2e/pages/harness.html?mode=${mode}`);
    await page.evaluate(() => window.harnessReady);
    await use(page);
    expect(errors, 'uncaught errors in the page').toEqual([]);
  },
});

export { expect };

function sha256(bytes: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .digest('hex');
}

/**
 * What the GPU must hold for one column, computed row by row from the Arrow source: 32-bit values
 * (integers widened, Float64 through Math.fround) and, when it has nulls, one validity bit a row.
 */
export function expectedColumn(vector: Vector, name: string): ColumnDigest {
  const type = String(vector.type);
  const n = vector.length;
  const signed = /^Int/.test(type);
  const values = type.startsWith('Float')
    ? new Float32Array(n)
    : signed
      ? new Int32Array(n)
      : new Uint32Array(n);
  let row = 0;
  for (const data of vector.data) {
    const source = data.values as ArrayLike<number>;
    for (let i = 0; i < data.length; i++, row++) {
      const v = source[data.offset + i] as number;
      values[row] = type === 'Float64' ? Math.fround(v) : v;
    }
  }
  let validitySha256: string | null = null;
  if (vector.nullCount > 0) {
    const words = new Uint32Array(Math.ceil(n / 32));
    for (let i = 0; i < n; i++)
      if (vector.isValid(i)) words[i >> 5] = ((words[i >> 5] as number) | (1 << (i & 31))) >>> 0;
    validitySha256 = sha256(words);
  }
  const gpuType = values instanceof Float32Array ? 'f32' : values instanceof Int32Array ? 'i32' : 'u32';
  return {
    name,
    gpuType,
    length: n,
    sha256: sha256(values),
    head: Array.from(values.subarray(0, 4)),
    validitySha256,
  };
}

/** Expected digests of the named columns (default: all) of a fixture. */
export function expectedColumns(fixture: string, names?: readonly string[]): ColumnDigest[] {
  return expectedColumnsOf(fixtureBytes(fixture), names);
}

/** Expected digests of the named columns (default: all) of IPC bytes. */
export function expectedColumnsOf(bytes: Uint8Array, names?: readonly string[]): ColumnDigest[] {
  const table = tableFromIPC(bytes);
  const pick = names ?? table.schema.fields.map((f) => f.name);
  return pick.map((name) => expectedColumn(table.getChild(name) as Vector, name));
}

/** Expected digests of the named columns (default: all) of a fixture's first `rows` rows. */
export function expectedPrefix(fixture: string, rows: number, names?: readonly string[]): ColumnDigest[] {
  const table = tableFromIPC(fixtureBytes(fixture));
  const pick = names ?? table.schema.fields.map((f) => f.name);
  return pick.map((name) => expectedColumn((table.getChild(name) as Vector).slice(0, rows), name));
}

/** A fixture's bytes. */
export function fixtureBytes(fixture: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURE_DIR, fixture)));
}

/** Rows in a fixture. */
export function fixtureRows(fixture: string): number {
  return tableFromIPC(readFileSync(join(FIXTURE_DIR, fixture))).numRows;
}
