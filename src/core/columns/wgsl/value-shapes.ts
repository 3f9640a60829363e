import type { Encoding } from '../encoding.js';
import type { ColumnPlan } from '../type-plan.js';

/** What a plan needs to know to read a column's words in WGSL. */
export type WgslPlan = Pick<
  ColumnPlan,
  'name' | 'arrowType' | 'encoding' | 'components' | 'element' | 'listSize'
>;

/** The WGSL type a row's value reads as, and the expression that builds it from the row's words. */
export interface ValueShape {
  type: string;
  /** `word(i)`: the expression of the row's word `i`, a u32. */
  build: (word: (i: number) => string) => string;
}

/** A function on values of a column (`<id>_<suffix>`), forwarding to a shared helper. */
export interface ValueOp {
  suffix: string;
  /** Parameters, each of the column's value type. */
  params: readonly string[];
  returns: string;
  helper: string;
}

/** One u32 word as a scalar of `type`. */
function scalar(type: 'f32' | 'i32' | 'u32', word: string): string {
  return type === 'u32' ? word : `bitcast<${type}>(${word})`;
}

/** `count` words as `u32` or `vecN<u32>`, then bitcast to `vecN<type>`. */
function words(count: number, type: 'f32' | 'i32' | 'u32' = 'u32'): ValueShape {
  if (count === 1) return { type, build: (w) => scalar(type, w(0)) };
  const list = (w: (i: number) => string) => Array.from({ length: count }, (_, i) => w(i)).join(', ');
  const raw = (w: (i: number) => string) => `vec${count}<u32>(${list(w)})`;
  if (type === 'u32') return { type: `vec${count}<u32>`, build: raw };
  return { type: `vec${count}<${type}>`, build: (w) => `bitcast<vec${count}<${type}>>(${raw(w)})` };
}

/** Encodings whose word is one scalar, and that scalar's WGSL type. */
const ONE_WORD: Partial<Record<Encoding, 'f32' | 'i32' | 'u32'>> = {
  f32: 'f32',
  'f32-relative': 'f32',
  i32: 'i32',
  u32: 'u32',
};

/** The WGSL type of one element of a `vector` column: a scalar, or `vec2<u32>` for 64-bit elements. */
export function elementType(plan: WgslPlan): string {
  return ONE_WORD[plan.element ?? 'u32'] ?? 'vec2<u32>';
}

/**
 * How `<id>_value(row)` reads a row, or `null` where the column has none: `bool` (a bit), `dictionary`
 * (`<id>_code`), `null`, and multi-word columns of more than four words (read through `<id>_word`).
 */
export function valueShape(plan: WgslPlan): ValueShape | null {
  const one = ONE_WORD[plan.encoding];
  if (one) return words(1, one);
  switch (plan.encoding) {
    case 'i64':
    case 'u64':
    case 'f64':
      return words(2);
    case 'f32x2':
      return words(2, 'f32');
    case 'interval':
      return plan.components === 2 ? words(2, 'i32') : words(4);
    case 'vector': {
      const element = ONE_WORD[plan.element ?? 'u32'];
      if (element && (plan.listSize ?? 0) <= 4) return words(plan.listSize ?? 1, element);
      return plan.components <= 4 ? words(plan.components) : null;
    }
    case 'decimal':
    case 'bytes':
      return plan.components <= 4 ? words(plan.components) : null;
    default:
      return null;
  }
}

function int64Ops(signed: boolean): ValueOp[] {
  const pair = 'vec2<u32>';
  return [
    { suffix: 'lt', params: ['a', 'b'], returns: 'bool', helper: signed ? 'awg_i64_lt' : 'awg_u64_lt' },
    { suffix: 'add', params: ['a', 'b'], returns: pair, helper: 'awg_u64_add' },
    { suffix: 'sub', params: ['a', 'b'], returns: pair, helper: 'awg_u64_sub' },
    { suffix: 'to_f32', params: ['v'], returns: 'f32', helper: signed ? 'awg_i64_to_f32' : 'awg_u64_to_f32' },
  ];
}

/** The functions on values a column gets, so that shader code needs not know which 64-bit form it has. */
export function valueOps(plan: WgslPlan): ValueOp[] {
  switch (plan.encoding) {
    case 'i64':
      return int64Ops(true);
    case 'u64':
      return int64Ops(false);
    case 'f64':
      return [{ suffix: 'to_f32', params: ['v'], returns: 'f32', helper: 'awg_f64_to_f32' }];
    case 'f32x2':
      return [
        { suffix: 'add', params: ['a', 'b'], returns: 'vec2<f32>', helper: 'awg_ds_add' },
        { suffix: 'sub', params: ['a', 'b'], returns: 'vec2<f32>', helper: 'awg_ds_sub' },
        { suffix: 'to_f32', params: ['v'], returns: 'f32', helper: 'awg_f32x2_value' },
      ];
    default:
      return [];
  }
}
