// The query line, page side: a table loaded through the public API answers the queries in the loader's
// worker (over Comlink), and the page runs the JavaScript loops over the same file's values.
import { tableFromIPC } from 'apache-arrow';
import type * as Lib from '../src/index.js';
import type { QueryTableReport } from './query-line.js';
import { measureOperations, type QueryTarget, queryOperations, queryValues } from './query-operations.js';

/**
 * Loads `url`, decodes the same file on the page for the loops, and times every operation (or those
 * named in `only`) `reps` times.
 */
export async function queryRun(
  loader: Lib.Loader,
  url: string,
  reps: number,
  only?: readonly string[],
): Promise<Omit<QueryTableReport, 'input' | 'reps'>> {
  const t0 = performance.now();
  const table = await loader.load(url, { encodings: { f64: 'f64' } });
  const values = queryValues(tableFromIPC(new Uint8Array(await (await fetch(url)).arrayBuffer())));
  const loadMs = performance.now() - t0;
  try {
    const target: QueryTarget = {
      describe: (name) => table.describe(name),
      histogram: (name, options) => table.histogram(name, options),
      crossfilter: (options) => table.crossfilter(options),
    };
    const notes: string[] = [];
    const operations = (await queryOperations(target, values, (line) => notes.push(line))).filter(
      (op) => !only || only.includes(op.name),
    );
    const timings = await measureOperations(operations, reps);
    return { rows: table.numRows, loadMs, notes, timings };
  } finally {
    await table.destroy();
  }
}
