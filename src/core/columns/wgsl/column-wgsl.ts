import { accessors, validBody } from './accessors.js';
import { type ChunkRange, checkChunks } from './chunk-lookup.js';
import { type ColumnPlacement, ColumnWriter, type WgslBinding } from './column-writer.js';
import type { WgslPlan } from './value-shapes.js';

export type { ColumnPlacement, WgslBinding } from './column-writer.js';

/** A column to generate WGSL for: its plan and the row ranges of its value and validity buffers. */
export interface WgslColumnInput {
  plan: WgslPlan;
  values: readonly ChunkRange[];
  /** `null` when the column has no nulls (then `<id>_valid` is always true). */
  validity: readonly ChunkRange[] | null;
}

/** One column's WGSL, its bindings, every name it declares, and the shared helpers it calls. */
export interface ColumnWgsl {
  code: string;
  bindings: WgslBinding[];
  /** Functions declared for shader code to call. */
  functions: string[];
  /** Every module-scope name declared: variables and functions. */
  declared: string[];
  helpers: string[];
}

/**
 * The declarations and accessors of one column: a `var<storage, read>` per value chunk (`<id>_<k>`) and
 * per validity chunk (`<id>_validity_<k>`), then `<id>_valid(row)` and the accessors of its encoding.
 * A `null` column binds nothing: every row is null whatever its buffers hold.
 */
export function columnWgsl(column: WgslColumnInput, place: ColumnPlacement): ColumnWgsl {
  const { plan } = column;
  checkChunks(plan.name, column.values);
  if (column.validity) checkChunks(plan.name, column.validity);
  const out = new ColumnWriter(place);
  const isNull = plan.encoding === 'null';
  const values = isNull ? [] : out.bind(plan.name, 'values', column.values, (k) => `${place.id}_${k}`);
  const validity =
    isNull || !column.validity
      ? null
      : out.bind(plan.name, 'validity', column.validity, (k) => `${place.id}_validity_${k}`);
  out.fn('valid', '(row: u32) -> bool', validBody(isNull, validity, column.validity ?? []));
  accessors(out, plan, values, column.values);
  return {
    code: [columnComment(column), ...out.lines].join('\n'),
    bindings: out.bindings,
    functions: out.functions,
    declared: [...out.bindings.map((b) => b.variable), ...out.functions],
    helpers: [...out.helpers],
  };
}

/** A column's header comment; names are quoted and escaped so that no line break ends the comment. */
function columnComment({ plan, values, validity }: WgslColumnInput): string {
  const quote = (s: string) =>
    JSON.stringify(s).replace(
      /[\u0085\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  const words = plan.encoding === 'bool' ? '1 bit' : `${plan.components} word(s)`;
  const nulls = plan.encoding === 'null' ? 'every row null' : validity ? 'with nulls' : 'no nulls';
  return `// Column ${quote(plan.name)}: ${quote(plan.arrowType)} as ${plan.encoding}, ${words} a row, ${values.length} chunk(s), ${nulls}.`;
}
