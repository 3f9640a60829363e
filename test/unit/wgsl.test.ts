import {
  Bool,
  type DataType,
  Decimal,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  IntervalDayTime,
  IntervalMonthDayNano,
  Null,
  Schema,
  Uint8,
  Uint32,
  Uint64,
  Utf8,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { Encoding } from '../../src/core/columns/encoding.js';
import { type ColumnPlan, planColumns } from '../../src/core/columns/type-plan.js';
import type { ChunkRange } from '../../src/core/columns/wgsl/chunk-lookup.js';
import type { WgslColumnInput } from '../../src/core/columns/wgsl/column-wgsl.js';
import { HELPER_NAMES } from '../../src/core/columns/wgsl/helpers.js';
import { baseIdentifier } from '../../src/core/columns/wgsl/identifiers.js';
import { type TableWgsl, tableWgsl, type WgslOptions } from '../../src/core/columns/wgsl/table-wgsl.js';
import { ArgumentError } from '../../src/core/errors.js';
import { compileErrors } from '../support/compute.js';
import { withDevice } from '../support/dawn.js';

// The WGSL generator: identifiers, bindings and chunk branches as text, and every module it makes
// compiled by Dawn (Tint), for every encoding and chunking.

const list = (size: number, type: DataType) => new FixedSizeList(size, new Field('v', type));

/** A field of every shape each encoding takes; planned with `exact`, then with per-column requests. */
const FIELDS: Array<[string, DataType, Encoding?]> = [
  ['f32', new Float32()],
  ['i32', new Int32()],
  ['u32', new Uint32()],
  ['flag', new Bool()],
  ['i64', new Int64()],
  ['u64', new Uint64()],
  ['f64', new Float64()],
  ['pair', new Float64(), 'f32x2'],
  ['relative', new Int64(), 'f32-relative'],
  ['price', new Decimal(2, 10, 128)],
  ['wide price', new Decimal(2, 30, 256)],
  ['name', new Utf8()],
  ['rgb', new FixedSizeBinary(3)],
  ['digest', new FixedSizeBinary(6)],
  ['key', new FixedSizeBinary(12)],
  ['hash', new FixedSizeBinary(20)],
  ['one', list(1, new Float32())],
  ['xyz', list(3, new Float32())],
  ['rgba', list(4, new Uint8())],
  ['five', list(5, new Int32())],
  ['bits', list(2, new Bool())],
  ['ids', list(2, new Int64())],
  ['coordinate', list(1, new Float64())],
  ['path', list(3, new Float64())],
  ['span', new IntervalDayTime()],
  ['period', new IntervalMonthDayNano()],
  ['nothing', new Null()],
];

function everyPlan(): ColumnPlan[] {
  const schema = new Schema(FIELDS.map(([name, type]) => new Field(name, type, true)));
  const requests: Record<string, Encoding> = {};
  for (const [name, , encoding] of FIELDS) if (encoding) requests[name] = encoding;
  const exact = planColumns(schema, { encodings: 'exact' }, 'test://wgsl').plans;
  const requested = planColumns(schema, { encodings: requests }, 'test://wgsl').plans;
  return exact.map((plan) =>
    requests[plan.name] ? (requested.find((p) => p.name === plan.name) as ColumnPlan) : plan,
  );
}

/** Chunks of `chunkRows` rows over `rows` rows. */
function chunks(rows: number, chunkRows: number): ChunkRange[] {
  const out: ChunkRange[] = [];
  for (let rowOffset = 0; rowOffset < rows; rowOffset += chunkRows) {
    out.push({ rowOffset, rows: Math.min(chunkRows, rows - rowOffset) });
  }
  return out;
}

function column(plan: ColumnPlan, values: ChunkRange[], nulls = true): WgslColumnInput {
  return { plan, values, validity: nulls ? values : null };
}

const named = (name: string, encoding: Encoding = 'f32'): ColumnPlan => ({
  name,
  path: [0],
  arrowType: 'Float32',
  field: new Field(name, new Float32()),
  encoding,
  components: encoding === 'i64' ? 2 : 1,
  wordType: 'f32',
});

describe('WGSL identifiers', () => {
  it('spell column names as ASCII identifiers, never reserved, never starting with a digit', () => {
    const spelt = ['point.lat', 'a  b!!', '__x', 'température', '1st', 'loop', 'fn', '', '…', 'Δt', 'x_'].map(
      (n) => baseIdentifier(n),
    );
    expect(spelt).toEqual([
      'point_lat',
      'a_b',
      'x',
      'temperature',
      'c_1st',
      'c_loop',
      'c_fn',
      'column',
      'column',
      't',
      'x',
    ]);
    expect(baseIdentifier('lat', 't_')).toBe('t_lat');
  });

  it('resolve collisions against every name a column declares, and against the shared helpers', () => {
    const two = chunks(64, 32);
    const wgsl = tableWgsl([
      column(named('a.b'), two),
      column(named('a_b'), two),
      column(named('x'), two),
      column(named('x_0'), two),
      column(named('awg_u64', 'i64'), two),
      column(named('a.b'), two),
    ]);
    expect(wgsl.columns.map((c) => c.identifier)).toEqual([
      'a_b',
      'a_b_2',
      'x',
      'x_0_2',
      'awg_u64_2',
      'a_b_3',
    ]);
    const declared = [...wgsl.bindings.map((b) => b.variable), ...wgsl.columns.flatMap((c) => c.functions)];
    expect(new Set(declared).size).toBe(declared.length);
    expect(declared.filter((name) => HELPER_NAMES.includes(name))).toEqual([]);
  });
});

describe('WGSL bindings and chunk lookups', () => {
  const [f64, flag, nothing] = ['f64', 'flag', 'nothing'].map((name) =>
    everyPlan().find((p) => p.name === name),
  ) as [ColumnPlan, ColumnPlan, ColumnPlan];

  it('number bindings on from firstBinding: each column its value chunks, then its validity chunks', () => {
    const three = chunks(143, 64);
    const wgsl = tableWgsl([column(f64, three), column(nothing, three), column(flag, three, false)], {
      group: 2,
      firstBinding: 5,
    });
    expect(
      wgsl.bindings.map((b) => [b.binding, b.column, b.kind, b.chunk, b.rowOffset, b.rows, b.variable]),
    ).toEqual([
      [5, 'f64', 'values', 0, 0, 64, 'f64_0'],
      [6, 'f64', 'values', 1, 64, 64, 'f64_1'],
      [7, 'f64', 'values', 2, 128, 15, 'f64_2'],
      [8, 'f64', 'validity', 0, 0, 64, 'f64_validity_0'],
      [9, 'f64', 'validity', 1, 64, 64, 'f64_validity_1'],
      [10, 'f64', 'validity', 2, 128, 15, 'f64_validity_2'],
      // A null column binds nothing; flag has no nulls, so no validity.
      [11, 'flag', 'values', 0, 0, 64, 'flag_0'],
      [12, 'flag', 'values', 1, 64, 64, 'flag_1'],
      [13, 'flag', 'values', 2, 128, 15, 'flag_2'],
    ]);
    expect(wgsl.bindings.every((b) => b.group === 2)).toBe(true);
    expect(wgsl.code).toContain('@group(2) @binding(5) var<storage, read> f64_0: array<u32>;');
    expect(wgsl.code).toContain('fn nothing_valid(row: u32) -> bool { return false; }');
    expect(wgsl.code).toContain('fn flag_valid(row: u32) -> bool { return true; }');
  });

  it('look rows up by chunk with the chunk ends baked in, one accessor whatever the chunk count', () => {
    const code = tableWgsl([column(f64, chunks(143, 64))]).code;
    expect(lines(code, 'fn f64_value(')).toEqual([
      'fn f64_value(row: u32) -> vec2<u32> {',
      '  if (row < 64u) { return vec2<u32>(f64_0[row * 2u], f64_0[row * 2u + 1u]); }',
      '  if (row < 128u) { return vec2<u32>(f64_1[(row - 64u) * 2u], f64_1[(row - 64u) * 2u + 1u]); }',
      '  return vec2<u32>(f64_2[(row - 128u) * 2u], f64_2[(row - 128u) * 2u + 1u]);',
      '}',
    ]);
    expect(lines(code, 'fn f64_valid(')).toEqual([
      'fn f64_valid(row: u32) -> bool {',
      '  if (row < 64u) { return (f64_validity_0[row >> 5u] & (1u << (row & 31u))) != 0u; }',
      '  if (row < 128u) { return (f64_validity_1[(row - 64u) >> 5u] & (1u << (row & 31u))) != 0u; }',
      '  return (f64_validity_2[(row - 128u) >> 5u] & (1u << (row & 31u))) != 0u;',
      '}',
    ]);
    const one = tableWgsl([column(flag, chunks(20, 64), false)]).code;
    expect(lines(one, 'fn flag_value(')).toEqual([
      'fn flag_value(row: u32) -> bool { return (flag_0[row >> 5u] & (1u << (row & 31u))) != 0u; }',
    ]);
    const none = tableWgsl([column(f64, [])]);
    expect(none.bindings).toEqual([]);
    expect(none.code).toContain('fn f64_value(row: u32) -> vec2<u32> { return vec2<u32>(); }');
  });

  it('refuses chunks that do not follow each other in multiples of 32 rows, or rows past a u32', () => {
    expect(() =>
      tableWgsl([
        column(f64, [
          { rowOffset: 0, rows: 40 },
          { rowOffset: 40, rows: 8 },
        ]),
      ]),
    ).toThrow(/chunk 0 holds rows 0\+40/);
    expect(() => tableWgsl([column(f64, [{ rowOffset: 32, rows: 8 }])])).toThrow(/chunk 0/);
    const huge = [
      { rowOffset: 0, rows: 2 ** 31 },
      { rowOffset: 2 ** 31, rows: 2 ** 31 },
    ];
    expect(() => tableWgsl([column(f64, huge)])).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
  });

  it('emit the shared helpers the columns need, all of them, or none', () => {
    const f32 = named('x');
    const has = (wgsl: TableWgsl) => HELPER_NAMES.filter((h) => wgsl.code.includes(`fn ${h}(`));
    expect(has(tableWgsl([column(f32, chunks(10, 32))]))).toEqual([]);
    expect(has(tableWgsl([column(f64, chunks(10, 32))]))).toEqual([
      'awg_shift_round',
      'awg_f64_to_f32_bits',
      'awg_f64_to_f32',
    ]);
    expect(has(tableWgsl([], { helpers: 'all' }))).toEqual(HELPER_NAMES);
    expect(has(tableWgsl([column(f64, chunks(10, 32))], { helpers: 'none' }))).toEqual([]);
  });

  it('refuses options out of range with INVALID_ARGUMENT naming the option', () => {
    const bad: Array<[unknown, string]> = [
      [null, 'options'],
      [{ group: -1 }, 'group'],
      [{ firstBinding: 1.5 }, 'firstBinding'],
      [{ prefix: '1x' }, 'prefix'],
      [{ prefix: '_x' }, 'prefix'],
      [{ helpers: 'some' }, 'helpers'],
    ];
    for (const [options, option] of bad) {
      const error = (() => {
        try {
          tableWgsl([], options as WgslOptions);
        } catch (e) {
          return e;
        }
      })();
      expect(error, option).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).details.option).toBe(option);
    }
  });
});

describe('every generated module compiles on Dawn', () => {
  const plans = everyPlan();

  it('covers every encoding', () => {
    const encodings = new Set(plans.map((p) => p.encoding));
    const all: Encoding[] = ['f32', 'i32', 'u32', 'bool', 'i64', 'u64', 'f64', 'f32x2', 'f32-relative'];
    all.push('decimal', 'dictionary', 'bytes', 'vector', 'interval', 'null');
    expect([...encodings].sort()).toEqual(all.sort());
  });

  it('each column alone, with no rows, one chunk or three, with and without nulls', async () => {
    await withDevice(async (device) => {
      const failures: string[] = [];
      for (const plan of plans) {
        for (const ranges of [[], chunks(20, 64), chunks(200, 64)]) {
          for (const nulls of [false, true]) {
            const { code } = tableWgsl([column(plan, ranges, nulls)], { group: 1, firstBinding: 3 });
            const errors = await compileErrors(device, code);
            if (errors.length > 0)
              failures.push(`${plan.name} (${plan.encoding}): ${errors.join('; ')}\n${code}`);
          }
        }
      }
      expect(failures.slice(0, 3)).toEqual([]);
    });
  });

  it('every column in one module; two tables in one shader with prefixes; names that need escaping', async () => {
    const all = plans.map((plan) => column(plan, chunks(100, 32)));
    const first = tableWgsl(all, { helpers: 'all', prefix: 'a_' });
    const second = tableWgsl(all, { helpers: 'none', prefix: 'b_', group: 1 });
    const odd = { ...named('line\nbreak\u2028end */ fn'), arrowType: 'Float32\r\n' };
    const escaped = tableWgsl([column(odd, chunks(40, 32))]);
    expect(escaped.code).toContain('// Column "line\\nbreak\\u2028end */ fn": "Float32\\r\\n" as f32');
    await withDevice(async (device) => {
      expect(await compileErrors(device, tableWgsl(all).code)).toEqual([]);
      expect(await compileErrors(device, `${first.code}\n${second.code}`)).toEqual([]);
      expect(await compileErrors(device, escaped.code)).toEqual([]);
      // The check itself sees errors: the same module twice declares everything twice.
      expect((await compileErrors(device, `${first.code}\n${first.code}`)).length).toBeGreaterThan(0);
    });
  });
});

/** The lines of the function that starts with `start`, up to its closing brace. */
function lines(code: string, start: string): string[] {
  const all = code.split('\n');
  const from = all.findIndex((line) => line.startsWith(start));
  if (from < 0) throw new Error(`no ${start} in\n${code}`);
  if (all[from]?.endsWith('}')) return [all[from] as string];
  return all.slice(from, all.indexOf('}', from) + 1);
}
