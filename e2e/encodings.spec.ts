import type { Page } from '@playwright/test';
import { type Table, tableFromIPC } from 'apache-arrow';
import { mismatches, type ReadBack } from '../test/support/expected-words.js';
import { runEndTables } from '../test/support/run-end-table.js';
import { expect, fixtureBytes, test } from './support.js';

// Every row of the encoding table, loaded through the whole library and read back from the GPU, equals
// the source row by row; null rows through the validity words.

/** Loads `url` in the page and reads every column back: its words as u32, validity and dictionary. */
async function readBack(
  page: Page,
  url: string,
  options: { encodings?: 'auto' | 'exact'; columns?: string[] } = {},
) {
  return page.evaluate(
    async ({ url, options }) => {
      const loader = await window.harness.lib.createLoader();
      try {
        const table = await loader.load(url, options);
        const columns = [];
        for (const column of table.columns) {
          const words = await table.readColumn(column.name);
          const validity = await table.readValidity(column.name);
          const dictionary = column.encoding === 'dictionary' ? await table.dictionary(column.name) : null;
          columns.push({
            name: column.name,
            encoding: column.encoding,
            components: column.components,
            words: Array.from(new Uint32Array(words.buffer, words.byteOffset, words.length)),
            validity: validity ? Array.from(validity) : null,
            dictionary,
            info: column,
          });
        }
        return { numRows: table.numRows, columns, skipped: table.skipped, stages: table.stats.stages };
      } finally {
        await loader.close();
      }
    },
    { url, options },
  );
}

for (const fixture of ['every-type.stream', 'every-type.arrow'] as const) {
  for (const encodings of ['auto', 'exact'] as const) {
    test(`${fixture}, encodings '${encodings}': every column read back equals the source`, async ({
      harnessPage,
    }) => {
      const result = await readBack(harnessPage, `/data/${fixture}`, { encodings });
      const source: Table = tableFromIPC(fixtureBytes(fixture));
      expect(result.numRows).toBe(source.numRows);
      expect(result.skipped).toEqual([]);
      // Dictionary-encoding the string column is a stage of its own, inside the encoding stage.
      expect(result.stages.dictionaryMs).toBeGreaterThan(0);
      expect(result.stages.dictionaryMs).toBeLessThanOrEqual(result.stages.encodeMs);
      const names = result.columns.map((c) => `${c.name}:${c.encoding}`);
      expect(names).toEqual([
        'i8:i32',
        'i16:i32',
        'i32:i32',
        'u8:u32',
        'f32:f32',
        `f64:${encodings === 'exact' ? 'f64' : 'f32'}`,
        'i64:i64',
        'u64:u64',
        'ts:i64',
        'flag:bool',
        'name:dictionary',
        'category:dictionary',
        'price:decimal',
        'digest:bytes',
        'xy:vector',
        'span:interval',
        'nothing:null',
        `point.lat:${encodings === 'exact' ? 'f64' : 'f32'}`,
        'point.n:i32',
      ]);
      for (const column of result.columns) {
        expect(mismatches(source, column as ReadBack), column.name).toEqual([]);
        expect(
          column.info.chunks.reduce((n, c) => n + c.rows, 0),
          column.name,
        ).toBe(column.encoding === 'null' ? 0 : source.numRows);
      }
    });
  }
}

test('more-types.stream: MONTH_DAY_NANO intervals, 256-bit decimals, 20-byte binaries and 5-vectors read back word for word', async ({
  harnessPage,
}) => {
  const result = await readBack(harnessPage, '/data/more-types.stream', {
    encodings: 'exact',
    columns: ['count', 'period', 'wide', 'hash', 'five'],
  });
  const source = tableFromIPC(fixtureBytes('more-types.stream'));
  expect(result.numRows).toBe(source.numRows);
  expect(result.columns.map((c) => `${c.name}:${c.encoding}:${c.components}`)).toEqual([
    'count:u32:1',
    'period:interval:4',
    'wide:decimal:8',
    'hash:bytes:5',
    'five:vector:5',
  ]);
  for (const column of result.columns) {
    expect(mismatches(source, column as ReadBack), column.name).toEqual([]);
  }
  // An interval's four words are months, days and the nanoseconds' low and high words, as the source
  // stores them (two int32 and an int64, little-endian).
  const period = result.columns.find((c) => c.name === 'period');
  const data = source.getChild('period')?.data[0];
  const bytes = data?.values as Int32Array;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let checked = 0;
  for (let row = 0; row < (data?.length ?? 0); row++) {
    if (!data?.getValid(row)) continue;
    const [months, days, lo, hi] = (period?.words ?? []).slice(row * 4, row * 4 + 4) as number[];
    expect(
      [months, days].map((w) => (w as number) | 0),
      `row ${row}`,
    ).toEqual([view.getInt32(row * 16, true), view.getInt32(row * 16 + 4, true)]);
    const nanos = BigInt.asIntN(64, (BigInt(hi as number) << 32n) | BigInt(lo as number));
    expect(nanos, `row ${row}`).toBe(view.getBigInt64(row * 16 + 8, true));
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
});

for (const fixture of ['run-end.stream', 'run-end.arrow'] as const) {
  for (const encodings of ['auto', 'exact'] as const) {
    test(`${fixture}, encodings '${encodings}': RunEndEncoded columns read back as the plain columns of their values`, async ({
      harnessPage,
    }) => {
      const result = await readBack(harnessPage, `/data/${fixture}`, { encodings });
      // The same rows, expanded on the CPU as plain columns of the values' types.
      const { plain, paths } = runEndTables();
      expect(result.numRows).toBe(plain.numRows);
      expect(result.skipped).toEqual([]);
      const f64 = encodings === 'exact' ? 'f64' : 'f32';
      expect(result.columns.map((c) => `${c.name}:${c.encoding}`)).toEqual([
        `f64:${f64}`,
        'i32:i32',
        'u8:u32',
        'ts:i64',
        'flag:bool',
        'price:decimal',
        'span:interval',
        'digest:bytes',
        'xy:vector',
        'name:dictionary',
        'category:dictionary',
        'nothing:null',
        `point.lat:${f64}`,
        'point.r:i32',
        'id:i32',
      ]);
      for (const column of result.columns) {
        const runs = paths.includes(column.name);
        const type = runs ? /^RunEndEncoded<Int(16|32|64), / : /^(Float64|Int32)$/;
        expect(column.info.arrowType, column.name).toMatch(type);
        expect(mismatches(plain, column as ReadBack), column.name).toEqual([]);
      }
    });
  }
}

test('encodings asked per column (f32x2, f32-relative, f32 of integers) read back as documented', async ({
  harnessPage,
}) => {
  const encodings = {
    f64: 'f32x2',
    ts: 'f32-relative',
    i64: 'f32x2',
    i32: 'f32',
    'point.lat': 'f32x2',
  } as const;
  const result = await harnessPage.evaluate(async (encodings) => {
    const loader = await window.harness.lib.createLoader();
    try {
      const table = await loader.load('/data/every-type.stream', {
        columns: Object.keys(encodings),
        encodings: { ...encodings },
      });
      const columns = [];
      for (const column of table.columns) {
        const words = await table.readColumn(column.name);
        columns.push({
          ...column,
          values: Array.from(new Float32Array(words.buffer, words.byteOffset, words.length)),
        });
      }
      return columns;
    } finally {
      await loader.close();
    }
  }, encodings);
  const source = tableFromIPC(fixtureBytes('every-type.stream'));
  const valueAt = (name: string, row: number) => {
    const [top, child] = name.split('.');
    const vector = source.getChild(top as string);
    const leaf = child ? vector?.getChild(child as never) : vector;
    return leaf?.isValid(row) && vector?.isValid(row) ? Number(leaf.get(row)) : null;
  };
  for (const column of result) {
    expect(column.encoding, column.name).toBe(encodings[column.name as keyof typeof encodings]);
    for (let row = 0; row < source.numRows; row++) {
      const v = valueAt(column.name, row);
      if (v === null) continue;
      if (column.encoding === 'f32x2') {
        const hi = column.values[2 * row] as number;
        const lo = column.values[2 * row + 1] as number;
        expect(hi, `${column.name}[${row}] hi`).toBe(Math.fround(v));
        expect(lo, `${column.name}[${row}] lo`).toBe(Math.fround(v - hi));
      } else if (column.encoding === 'f32-relative') {
        const offset = Number(column.offset);
        expect(column.values[row], `${column.name}[${row}]`).toBe(Math.fround(v - offset));
      } else {
        expect(column.values[row], `${column.name}[${row}]`).toBe(Math.fround(v));
      }
    }
  }
  // The relative encoding's offset is the column's first valid value, exactly.
  const ts = result.find((c) => c.name === 'ts');
  const firstValid = Array.from({ length: source.numRows }, (_, i) => valueAt('ts', i)).find(
    (v) => v !== null,
  );
  expect(ts?.offset).toBe(String(firstValid));
});
