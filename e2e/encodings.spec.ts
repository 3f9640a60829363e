import { type Table, tableFromIPC } from 'apache-arrow';
import { mismatches, type ReadBack } from '../test/support/expected-words.js';
import { expect, fixtureBytes, test } from './support.js';

// Every row of the encoding table, loaded through the whole library and read back from the GPU, equals
// the source row by row; null rows through the validity words.

for (const fixture of ['every-type.stream', 'every-type.arrow'] as const) {
  for (const encodings of ['auto', 'exact'] as const) {
    test(`${fixture}, encodings '${encodings}': every column read back equals the source`, async ({
      harnessPage,
    }) => {
      const result = await harnessPage.evaluate(
        async ({ fixture, encodings }) => {
          const loader = await window.harness.lib.createLoader();
          try {
            const table = await loader.load(`/data/${fixture}`, { encodings });
            const columns = [];
            for (const column of table.columns) {
              const words = await table.readColumn(column.name);
              const validity = await table.readValidity(column.name);
              const dictionary =
                column.encoding === 'dictionary' ? await table.dictionary(column.name) : null;
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
        { fixture, encodings },
      );
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
