import {
  Dictionary,
  Field,
  Float16,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  Schema,
  Uint8,
  Uint16,
  Uint32,
  Utf8,
} from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeValues, sourceBytes } from '../../src/core/columns/encode-values.js';
import { alignUp, gpuEncodingOf, planColumns, validityWordCount } from '../../src/core/columns/type-plan.js';
import { type ArrowGpuError, ColumnError, UnsupportedTypeError } from '../../src/core/errors.js';

describe('Arrow type → GPU type', () => {
  it('uploads 32-bit types as they are and widens or narrows the others to 32 bits', () => {
    expect(gpuEncodingOf(new Float32())).toEqual({ gpuType: 'f32', conversion: 'copy' });
    expect(gpuEncodingOf(new Int32())).toEqual({ gpuType: 'i32', conversion: 'copy' });
    expect(gpuEncodingOf(new Uint32())).toEqual({ gpuType: 'u32', conversion: 'copy' });
    expect(gpuEncodingOf(new Int8())).toEqual({ gpuType: 'i32', conversion: 'widen' });
    expect(gpuEncodingOf(new Int16())).toEqual({ gpuType: 'i32', conversion: 'widen' });
    expect(gpuEncodingOf(new Uint8())).toEqual({ gpuType: 'u32', conversion: 'widen' });
    expect(gpuEncodingOf(new Uint16())).toEqual({ gpuType: 'u32', conversion: 'widen' });
    expect(gpuEncodingOf(new Float64())).toEqual({ gpuType: 'f32', conversion: 'narrow-f64' });
  });

  it('has no encoding yet for 64-bit integers, half floats, strings or dictionaries', () => {
    for (const type of [new Int64(), new Float16(), new Utf8(), new Dictionary(new Utf8(), new Int32())]) {
      expect(gpuEncodingOf(type)).toBeNull();
    }
  });

  const schema = new Schema([
    new Field('a', new Float32()),
    new Field('s', new Utf8()),
    new Field('b', new Int16()),
  ]);

  it('plans every column by default and raises UNSUPPORTED_TYPE naming the column and its type', () => {
    const error = (() => {
      try {
        planColumns(schema, undefined, 'http://h/t.arrow');
      } catch (e) {
        return e;
      }
    })() as UnsupportedTypeError;
    expect(error).toBeInstanceOf(UnsupportedTypeError);
    expect(error.code).toBe('UNSUPPORTED_TYPE');
    expect(error.details).toMatchObject({ column: 's', arrowType: 'Utf8', url: 'http://h/t.arrow' });
    expect(error.message).toContain('"s"');
    expect(error.message).toContain('Utf8');
  });

  it('plans only the named columns, in the order asked, so unsupported columns can be left out', () => {
    const plans = planColumns(schema, ['b', 'a'], 'u');
    expect(plans.map((p) => [p.name, p.fieldIndex, p.gpuType])).toEqual([
      ['b', 2, 'i32'],
      ['a', 0, 'f32'],
    ]);
  });

  it('raises NO_SUCH_COLUMN naming the missing column and the ones that exist', () => {
    expect(() => planColumns(schema, ['zz'], 'http://h/t.arrow')).toThrow(ColumnError);
    try {
      planColumns(schema, ['zz'], 'http://h/t.arrow');
    } catch (e) {
      const error = e as ArrowGpuError;
      expect(error.code).toBe('NO_SUCH_COLUMN');
      expect(error.message).toMatch(/"zz".*http:\/\/h\/t\.arrow.*"a", "s", "b"/);
    }
  });
});

describe('alignment and validity words', () => {
  it('rounds up to multiples of 4 and never down', () => {
    fc.assert(
      fc.property(fc.nat(1 << 30), (n) => {
        const a = alignUp(n);
        expect(a % 4).toBe(0);
        expect(a).toBeGreaterThanOrEqual(n);
        expect(a - n).toBeLessThan(4);
      }),
    );
  });

  it('counts one u32 word per 32 rows, rounded up', () => {
    expect([0, 1, 31, 32, 33, 64, 65].map(validityWordCount)).toEqual([0, 1, 1, 1, 2, 2, 3]);
  });
});

describe('encodeValues', () => {
  const target = () => new ArrayBuffer(64);

  it('widens signed integers with their sign and unsigned ones with zeros', () => {
    const t = target();
    encodeValues('widen', Int8Array.of(-128, -1, 0, 127), 0, 4, t, 0);
    expect([...new Int32Array(t, 0, 4)]).toEqual([-128, -1, 0, 127]);
    encodeValues('widen', Uint16Array.of(0, 1, 65535), 0, 3, t, 16);
    expect([...new Uint32Array(t, 16, 3)]).toEqual([0, 1, 65535]);
    encodeValues('widen', Int16Array.of(-32768, 32767), 0, 2, t, 32);
    expect([...new Int32Array(t, 32, 2)]).toEqual([-32768, 32767]);
  });

  it('rounds f64 to the nearest f32 exactly as Math.fround does (NaN and infinities kept)', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 16 }), (values) => {
        const t = new ArrayBuffer(values.length * 4);
        encodeValues('narrow-f64', Float64Array.from(values), 0, values.length, t, 0);
        const got = [...new Float32Array(t)];
        expect(got).toEqual(values.map(Math.fround));
      }),
    );
  });

  it('hands 32-bit values over as their own bytes, from any offset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 2 }),
        fc.nat(),
        (values, skip) => {
          const first = skip % values.length;
          const count = values.length - first;
          const source = Int32Array.from(values);
          const bytes = sourceBytes(source, first, count);
          expect(bytes.buffer).toBe(source.buffer); // a view, not a copy
          expect([...new Int32Array(bytes.slice().buffer)]).toEqual(values.slice(first));
        },
      ),
    );
  });
});
