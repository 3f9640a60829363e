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
