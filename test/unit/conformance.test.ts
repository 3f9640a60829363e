import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Vector } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DictionaryEncoder } from '../../src/core/columns/encoders/dictionary-encoder.js';
import { ArrowGpuError } from '../../src/core/errors.js';
import { GpuContext } from '../../src/core/gpu/device-context.js';
import type { UploadedColumn } from '../../src/core/gpu/upload/table-uploader.js';
import { type LoadedTable, runPipeline } from '../../src/core/pipeline/load.js';
import type { UploadStrategy } from '../../src/types.js';
import { tailOf, whole } from '../support/byte-sources.js';
import { dawnGpu, ringIdle } from '../support/dawn.js';
import { destroyColumns, readChunkBytes } from '../support/gpu-columns.js';
import {
  expectedValidity,
  expectedWords,
  type IntegrationJson,
  type JsonField,
  type JsonLeaf,
  jsonLeaf,
  logicalScalar,
  readIntegrationJson,
} from '../support/integration-json.js';

// The conformance table: every case of the Arrow project's integration files (arrow-testing), as a
// stream and as a file, loaded with `encodings: 'exact'` and `unsupported: 'skip'` through both upload
// strategies, every uploaded column read back from the GPU and compared row by row with the case's JSON
// (validity on every row, values on valid rows). A case ends as "exact" (listing what it skipped) or as
// the library error it failed with; a wrong value fails the test.
//
// The table is test/conformance.md, a generated file that is committed, and README.md's "Conformance"
// section holds a copy of it. The run fails when either differs from what it produced, unless
// UPDATE_CONFORMANCE=1 is set: then it rewrites both.
//   UPDATE_CONFORMANCE=1 npx vitest run test/unit/conformance.test.ts

const ARROW_TESTING = join(import.meta.dirname, '../data/arrow-testing');
const DIRS = ['1.0.0-littleendian', '2.0.0-compression', '4.0.0-shareddict'];
const FORMATS = [
  { format: 'stream', ext: 'stream' },
  { format: 'file', ext: 'arrow_file' },
] as const;
const STRATEGIES: readonly UploadStrategy[] = ['staging', 'writeBuffer'];
const TABLE_PATH = join(import.meta.dirname, '../conformance.md');
const README_PATH = join(import.meta.dirname, '../../README.md');
const BEGIN = '<!-- conformance:begin -->';
const END = '<!-- conformance:end -->';
const UPDATE = process.env.UPDATE_CONFORMANCE === '1';

const CASES = DIRS.flatMap((dir) =>
  readdirSync(join(ARROW_TESTING, dir))
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => `${dir}/${f.replace(/\.json\.gz$/, '')}`),
);

/** Each case's cell per format, as the run found it. */
const cells = new Map<string, string>();

let context: GpuContext;
beforeAll(async () => {
  context = await GpuContext.open(dawnGpu(), () => {});
});
afterAll(() => context?.device.destroy());

/** Words of 32 bits read back from a column's chunks. */
async function words(chunks: UploadedColumn['values']): Promise<Uint32Array> {
  const bytes = await readChunkBytes(context.device, context.tracker, chunks);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** apache-arrow's values (lists, struct rows) as plain data, comparable with the JSON's. */
function normalise(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (value instanceof Vector) return Array.from(value as Iterable<unknown>, normalise);
  const row = value as { toJSON?: () => unknown };
  const plain = row.toJSON ? row.toJSON() : value;
  return Object.fromEntries(Object.entries(plain as object).map(([k, x]) => [k, normalise(x)]));
}

/** How row `row` of a loaded column differs from the JSON, or `null`. */
function rowDifference(
  column: UploadedColumn,
  leaf: JsonLeaf,
  values: Uint32Array,
  row: number,
): string | null {
  const { plan } = column;
  const raw = leaf.values[row];
  if (plan.encoding === 'dictionary') {
    const decoded = normalise((column.encoder as DictionaryEncoder).values()[values[row] as number]);
    const expected = logicalScalar(leaf.field, raw);
    return isDeepStrictEqual(decoded, expected)
      ? null
      : `code ${values[row]} → ${show(decoded)}, the JSON has ${show(expected)}`;
  }
  const want = expectedWords(plan, leaf.field, raw);
  const got =
    plan.encoding === 'bool'
      ? [((values[row >> 5] as number) >>> (row & 31)) & 1]
      : Array.from(values.subarray(row * plan.components, (row + 1) * plan.components));
  return isDeepStrictEqual(got, want) ? null : `words ${show(got)}, the JSON gives ${show(want)}`;
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Array.from(v) : v,
  );
}

/** Every difference between a loaded column and the JSON (at most five rows' worth). */
async function columnDifferences(json: IntegrationJson, column: UploadedColumn): Promise<string[]> {
  const leaf = jsonLeaf(json, column.plan.path);
  const values = await words(column.values);
  const validity = column.validity ? await words(column.validity) : null;
  const expected = expectedValidity(column.plan, leaf);
  const out: string[] = [];
  const nulls = expected.filter((v) => !v).length;
  if (column.nullCount !== nulls) out.push(`${column.nullCount} nulls, the JSON has ${nulls}`);
  for (let row = 0; row < expected.length && out.length < 5; row++) {
    const bit = validity ? ((validity[row >> 5] as number) >>> (row & 31)) & 1 : 1;
    const valid = expected[row] as boolean;
    if (bit !== (valid ? 1 : 0)) out.push(`row ${row}: validity bit ${bit}, the JSON says ${valid}`);
    const difference = valid ? rowDifference(column, leaf, values, row) : null;
    if (difference) out.push(`row ${row}: ${difference}`);
  }
  return out.map((d) => `${column.plan.name} (${column.plan.arrowType}, ${column.plan.encoding}): ${d}`);
}

/** Leaf columns of a JSON schema: a struct (not dictionary-encoded) stands for its children. */
function leafCount(fields: readonly JsonField[]): number {
  return fields.reduce(
    (n, f) => n + (f.type.name === 'struct' && !f.dictionary ? leafCount(f.children ?? []) : 1),
    0,
  );
}

/** Loads a case's bytes; the table, or the library error it failed with. */
async function load(
  bytes: Uint8Array,
  url: string,
  upload: UploadStrategy,
): Promise<LoadedTable | ArrowGpuError> {
  try {
    return await runPipeline({
      gpu: context,
      source: whole(bytes),
      readTail: tailOf(bytes),
      url,
      bytesTotal: bytes.byteLength,
      encodings: 'exact',
      unsupported: 'skip',
      upload,
    });
  } catch (error) {
    if (error instanceof ArrowGpuError) return error;
    throw error;
  }
}

/** A table cell: `exact (…)`, or the error code and the first sentence of its message. */
function cellOf(result: LoadedTable | ArrowGpuError): string {
  if (result instanceof ArrowGpuError) {
    const reason = result.message.split(/(?<=\.) /)[0] as string;
    return `${result.code}: ${reason.length > 160 ? `${reason.slice(0, 157)}…` : reason}`;
  }
  const skipped = result.skipped.map((s) => `${s.name} (\`${s.arrowType}\`)`).join(', ');
  const n = result.columns.length;
  return `exact (${n} column${n === 1 ? '' : 's'}${skipped ? `; skipped: ${skipped}` : ''})`;
}

/** Loads one case with one strategy, checks every column against the JSON, and frees everything. */
async function conform(json: IntegrationJson, bytes: Uint8Array, url: string, upload: UploadStrategy) {
  const result = await load(bytes, url, upload);
  if (!(result instanceof ArrowGpuError)) {
    try {
      expect(result.numRows, `${url} rows`).toBe(json.batches.reduce((n, b) => n + b.count, 0));
      const planned = result.columns.length + result.skipped.length;
      expect(planned, `${url}: columns loaded or skipped`).toBe(leafCount(json.schema.fields));
      const differences: string[] = [];
      for (const column of result.columns) differences.push(...(await columnDifferences(json, column)));
      expect(differences, `${url} (${upload}): values that differ from the JSON`).toEqual([]);
    } finally {
      destroyColumns(context.tracker, result.columns);
    }
  }
  await ringIdle(context);
  context.ring.trim();
  expect(context.tracker.count, 'GPU buffers left after the case').toBe(0);
  expect(context.uncapturedErrors, context.lastUncapturedError ?? '').toBe(0);
  return cellOf(result);
}

/** The Markdown table of every case. */
function renderTable(): string {
  const cell = (name: string, format: string) =>
    (cells.get(`${name} ${format}`) ?? '(not run)').replaceAll('|', '\\|');
  const lines = [
    '| case | stream | file |',
    '| --- | --- | --- |',
    ...CASES.map((name) => `| ${name} | ${FORMATS.map(({ format }) => cell(name, format)).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

const HEADER =
  '<!-- Generated by `UPDATE_CONFORMANCE=1 npx vitest run test/unit/conformance.test.ts`; do not edit. -->\n\n' +
  "Each case of the Arrow integration files (test/data/arrow-testing), loaded with `encodings: 'exact'` and " +
  "`unsupported: 'skip'` through both upload strategies, every uploaded column read back from the GPU and " +
  "compared row by row with the case's JSON: validity on every row, values on valid rows.\n\n";

describe('conformance: every integration file, read back from the GPU, equals its JSON', () => {
  for (const name of CASES) {
    for (const { format, ext } of FORMATS) {
      it(`${name}.${ext}`, async () => {
        const json = readIntegrationJson(join(ARROW_TESTING, `${name}.json.gz`));
        const bytes = new Uint8Array(readFileSync(join(ARROW_TESTING, `${name}.${ext}`)));
        const url = `${name}.${ext}`;
        const results: string[] = [];
        for (const upload of STRATEGIES) results.push(await conform(json, bytes, url, upload));
        expect(results[1], 'writeBuffer against staging').toBe(results[0]);
        cells.set(`${name} ${format}`, results[0] as string);
      });
    }
  }

  it(`test/conformance.md and README.md's copy are the table this run produced`, () => {
    expect(cells.size, 'cases that ran to a result (every one must, before the table is written)').toBe(
      CASES.length * FORMATS.length,
    );
    const table = renderTable();
    const section = `${BEGIN}\n${table}${END}`;
    if (UPDATE) {
      writeFileSync(TABLE_PATH, HEADER + table);
      const readme = readFileSync(README_PATH, 'utf8');
      writeFileSync(
        README_PATH,
        readme.replace(new RegExp(`${BEGIN}\\n[\\s\\S]*?${END}`), () => section),
      );
    }
    const again = 'UPDATE_CONFORMANCE=1 rewrites it';
    expect(readFileSync(TABLE_PATH, 'utf8'), `test/conformance.md (${again})`).toBe(HEADER + table);
    const readme = readFileSync(README_PATH, 'utf8');
    expect(readme.includes(section), `README.md between the conformance markers (${again})`).toBe(true);
  });
});
