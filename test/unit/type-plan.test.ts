import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  DurationMillisecond,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float16,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  IntervalDayTime,
  IntervalMonthDayNano,
  IntervalYearMonth,
  LargeUtf8,
  List,
  Null,
  Schema,
  Struct,
  TimeMillisecond,
  TimeNanosecond,
  TimestampMillisecond,
  Uint8,
  Uint64,
  Utf8,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { planColumns } from '../../src/core/columns/type-plan.js';
import {
  ArgumentError,
  type ArrowGpuError,
  ColumnError,
  UnsupportedTypeError,
} from '../../src/core/errors.js';

function planOf(type: DataType, encodings?: 'auto' | 'exact') {
  const plan = planColumns(new Schema([new Field('c', type)]), { encodings }, 'u').plans[0];
  return plan && [plan.encoding, plan.components, plan.wordType];
}

function thrown(run: () => unknown): ArrowGpuError {
  try {
    run();
  } catch (error) {
    return error as ArrowGpuError;
  }
  throw new Error('expected a throw');
}

describe('the encoding each Arrow type gets', () => {
  const table: Array<[DataType, unknown[], unknown[]]> = [
    [new Int8(), ['i32', 1, 'i32'], ['i32', 1, 'i32']],
    [new Int16(), ['i32', 1, 'i32'], ['i32', 1, 'i32']],
    [new Int32(), ['i32', 1, 'i32'], ['i32', 1, 'i32']],
    [new Uint8(), ['u32', 1, 'u32'], ['u32', 1, 'u32']],
    [new Int64(), ['i64', 2, 'u32'], ['i64', 2, 'u32']],
    [new Uint64(), ['u64', 2, 'u32'], ['u64', 2, 'u32']],
    [new Float16(), ['f32', 1, 'f32'], ['f32', 1, 'f32']],
    [new Float32(), ['f32', 1, 'f32'], ['f32', 1, 'f32']],
    [new Float64(), ['f32', 1, 'f32'], ['f64', 2, 'u32']],
    [new Bool(), ['bool', 1 / 32, 'u32'], ['bool', 1 / 32, 'u32']],
    [new DateDay(), ['i32', 1, 'i32'], ['i32', 1, 'i32']],
    [new DateMillisecond(), ['i64', 2, 'u32'], ['i64', 2, 'u32']],
    [new TimeMillisecond(), ['i32', 1, 'i32'], ['i32', 1, 'i32']],
    [new TimeNanosecond(), ['i64', 2, 'u32'], ['i64', 2, 'u32']],
    [new TimestampMillisecond('UTC'), ['i64', 2, 'u32'], ['i64', 2, 'u32']],
    [new DurationMillisecond(), ['i64', 2, 'u32'], ['i64', 2, 'u32']],
    [new IntervalYearMonth(), ['i32', 1, 'i32'], ['i32', 1, 'i32']],
    [new IntervalDayTime(), ['interval', 2, 'i32'], ['interval', 2, 'i32']],
    [new IntervalMonthDayNano(), ['interval', 4, 'i32'], ['interval', 4, 'i32']],
    [new Decimal(2, 10, 128), ['decimal', 4, 'u32'], ['decimal', 4, 'u32']],
    [new Decimal(2, 30, 256), ['decimal', 8, 'u32'], ['decimal', 8, 'u32']],
    [new Dictionary(new Utf8(), new Int32()), ['dictionary', 1, 'u32'], ['dictionary', 1, 'u32']],
    [new Utf8(), ['dictionary', 1, 'u32'], ['dictionary', 1, 'u32']],
    [new LargeUtf8(), ['dictionary', 1, 'u32'], ['dictionary', 1, 'u32']],
    [new Binary(), ['dictionary', 1, 'u32'], ['dictionary', 1, 'u32']],
    [new FixedSizeBinary(6), ['bytes', 2, 'u32'], ['bytes', 2, 'u32']],
    [new FixedSizeList(3, new Field('v', new Float32())), ['vector', 3, 'f32'], ['vector', 3, 'f32']],
    [new FixedSizeList(2, new Field('v', new Float64())), ['vector', 2, 'f32'], ['vector', 4, 'u32']],
    [new FixedSizeList(4, new Field('v', new Bool())), ['vector', 4, 'u32'], ['vector', 4, 'u32']],
    [new Null(), ['null', 0, 'u32'], ['null', 0, 'u32']],
  ];
  for (const [type, auto, exact] of table) {
    it(`${type}: auto ${auto[0]}, exact ${exact[0]}`, () => {
      expect(planOf(type)).toEqual(auto);
      expect(planOf(type, 'exact')).toEqual(exact);
    });
  }

  it('never picks a lossy encoding by default for 64-bit integers or timestamps', () => {
    for (const type of [new Int64(), new Uint64(), new TimestampMillisecond(), new DateMillisecond()]) {
      expect(['i64', 'u64']).toContain(planOf(type)?.[0]);
    }
  });
});

describe('planning a table', () => {
  const schema = new Schema([
    new Field('a', new Float32()),
    new Field('s', new List(new Field('x', new Int32()))),
    new Field(
      'p',
      new Struct([new Field('x', new Float64()), new Field('q', new Struct([new Field('y', new Int16())]))]),
    ),
    new Field('m', new List(new Field('y', new Utf8()))),
  ]);

  it('flattens structs into parent.child columns, recursively, with the path to each field', () => {
    const { plans } = planColumns(schema, { columns: ['p'] }, 'u');
    expect(plans.map((p) => [p.name, p.path])).toEqual([
      ['p.x', [2, 0]],
      ['p.q.y', [2, 1, 0]],
    ]);
  });

  it('names every column without an encoding at once, with UNSUPPORTED_TYPE', () => {
    const error = thrown(() => planColumns(schema, {}, 'http://h/t.arrow'));
    expect(error).toBeInstanceOf(UnsupportedTypeError);
    expect(error.details).toMatchObject({ column: 's', columns: ['s', 'm'], url: 'http://h/t.arrow' });
    expect(error.message).toContain('"s"');
    expect(error.message).toContain('"m"');
  });

  it("loads the rest with unsupported: 'skip' and lists what it skipped", () => {
    const { plans, skipped } = planColumns(schema, { unsupported: 'skip' }, 'u');
    expect(plans.map((p) => p.name)).toEqual(['a', 'p.x', 'p.q.y']);
    expect(skipped.map((s) => [s.name, s.arrowType])).toEqual([
      ['s', 'List<Int32>'],
      ['m', 'List<Utf8>'],
    ]);
    expect(skipped[0]?.reason).toContain('no GPU encoding');
  });

  it('takes an encoding per column, and refuses one that does not fit its type or names no column', () => {
    const { plans } = planColumns(schema, { columns: ['p.x'], encodings: { 'p.x': 'f32x2' } }, 'u');
    expect(plans[0]).toMatchObject({ encoding: 'f32x2', components: 2, wordType: 'f32' });
    const misfit = thrown(() => planColumns(schema, { columns: ['a'], encodings: { a: 'i64' } }, 'u'));
    expect(misfit).toBeInstanceOf(ArgumentError);
    expect(misfit.message).toContain("'i64'");
    const unknown = thrown(() => planColumns(schema, { columns: ['a'], encodings: { zz: 'f32' } }, 'u'));
    expect(unknown).toBeInstanceOf(ArgumentError);
    expect(unknown.details.column).toBe('zz');
  });

  it('raises NO_SUCH_COLUMN naming the missing column and the ones that exist', () => {
    const error = thrown(() => planColumns(schema, { columns: ['zz'] }, 'http://h/t.arrow'));
    expect(error).toBeInstanceOf(ColumnError);
    expect(error.code).toBe('NO_SUCH_COLUMN');
    expect(error.message).toContain('"zz"');
    expect(error.message).toContain('"p.q.y"');
  });
});

describe('RunEndEncoded columns (decoded as the struct of their run ends and values)', () => {
  const runEnds = (values: DataType, ends: DataType = new Int32()) =>
    new Struct([new Field('run_ends', ends, false), new Field('values', values, true)]);
  const planRuns = (type: DataType, options = {}) =>
    planColumns(new Schema([new Field('r', type)]), options, 'u', [], [[0]]);

  it('take the plan of their values, under their own type, for every type with an encoding', () => {
    const types: DataType[] = [
      new Int8(),
      new Uint8(),
      new Int64(),
      new Float64(),
      new Bool(),
      new DateDay(),
    ];
    types.push(new TimestampMillisecond(), new Decimal(2, 10, 128), new IntervalMonthDayNano());
    types.push(new Utf8(), new Dictionary(new Utf8(), new Int32()), new FixedSizeBinary(6), new Null());
    types.push(new FixedSizeList(2, new Field('v', new Float64())));
    for (const values of types) {
      for (const encodings of ['auto', 'exact'] as const) {
        const plain = planColumns(new Schema([new Field('r', values)]), { encodings }, 'u').plans[0];
        for (const ends of [new Int16(), new Int32(), new Int64()]) {
          const { plans } = planRuns(runEnds(values, ends), { encodings });
          expect(plans[0], `${values} ${encodings}`).toEqual({
            ...plain,
            // Expanded, the column is its values under its own name, nullable as the values are.
            field: new Field('r', values, true),
            arrowType: `RunEndEncoded<${ends}, ${values}>`,
            runEndEncoded: true,
          });
        }
      }
    }
  });

  it('are one column each, also as a struct child, selected by name', () => {
    const schema = new Schema([
      new Field('p', new Struct([new Field('x', new Int32()), new Field('r', runEnds(new Float32()))])),
    ]);
    const { plans } = planColumns(schema, { columns: ['p.r'] }, 'u', [], [[0, 1]]);
    expect(plans.map((p) => [p.name, p.path, p.encoding, p.arrowType])).toEqual([
      ['p.r', [0, 1], 'f32', 'RunEndEncoded<Int32, Float32>'],
    ]);
    // Without the path, the same fields are a struct of two plain columns.
    const plain = planColumns(schema, {}, 'u').plans.map((p) => p.name);
    expect(plain).toEqual(['p.x', 'p.r.run_ends', 'p.r.values']);
  });

  it('values without an encoding, or run ends of another type, are UNSUPPORTED_TYPE naming column and type', () => {
    const list = thrown(() => planRuns(runEnds(new List(new Field('x', new Int32())))));
    expect(list).toBeInstanceOf(UnsupportedTypeError);
    expect(list.details).toMatchObject({ column: 'r', arrowType: 'RunEndEncoded<Int32, List<Int32>>' });
    expect(list.message).toContain("values' type, List<Int32>, has none");
    const { skipped } = planRuns(runEnds(new Float32(), new Uint8()), { unsupported: 'skip' });
    expect(skipped).toEqual([
      {
        name: 'r',
        arrowType: 'RunEndEncoded<Uint8, Float32>',
        reason: expect.stringContaining('run ends must be Int16, Int32 or Int64'),
      },
    ]);
  });

  it('take the encodings their values can, and refuse others naming their own type', () => {
    const { plans } = planRuns(runEnds(new Float64()), { encodings: { r: 'f32x2' } });
    expect(plans[0]).toMatchObject({ encoding: 'f32x2', components: 2, runEndEncoded: true });
    const misfit = thrown(() => planRuns(runEnds(new Int32()), { encodings: { r: 'i64' } }));
    expect(misfit).toBeInstanceOf(ArgumentError);
    expect(misfit.message).toContain('RunEndEncoded<Int32, Int32>');
  });
});
