import { type ColumnWgsl, columnWgsl, type WgslBinding, type WgslColumnInput } from './column-wgsl.js';
import { HELPER_NAMES, helperCode } from './helpers.js';
import { baseIdentifier, claimIdentifier } from './identifiers.js';
import { checkWgslOptions, type WgslOptions } from './wgsl-options.js';

export type { WgslOptions } from './wgsl-options.js';

/** A column of a generated module: the identifier its names start with, and the functions it has. */
export interface WgslColumn {
  name: string;
  identifier: string;
  functions: string[];
}

/** WGSL declarations and accessors for a table's columns, and the buffers to bind for them. */
export interface TableWgsl {
  code: string;
  /** Every `var<storage, read>` of `code`, in binding order. */
  bindings: WgslBinding[];
  columns: WgslColumn[];
}

/**
 * The WGSL that lets a shader read `columns`: the shared helpers, then each column's buffers and
 * accessors (`columnWgsl`), bindings numbered on from `firstBinding` in column order. Identifiers
 * come from the column names, each unique in the module (and apart from every shared helper's name).
 */
export function tableWgsl(columns: readonly WgslColumnInput[], options: WgslOptions = {}): TableWgsl {
  checkWgslOptions(options);
  const { group = 0, firstBinding = 0, prefix = '', helpers = 'needed' } = options;
  const taken = new Set(HELPER_NAMES);
  const parts: ColumnWgsl[] = [];
  const described: WgslColumn[] = [];
  let binding = firstBinding;
  for (const column of columns) {
    const declares = (id: string) => columnWgsl(column, { id, group, firstBinding: 0 }).declared;
    const id = claimIdentifier(baseIdentifier(column.plan.name, prefix), declares, taken);
    const part = columnWgsl(column, { id, group, firstBinding: binding });
    binding += part.bindings.length;
    parts.push(part);
    described.push({ name: column.plan.name, identifier: id, functions: part.functions });
  }
  const needed = helpers === 'all' ? HELPER_NAMES : helpers === 'none' ? [] : parts.flatMap((p) => p.helpers);
  const bindings = parts.flatMap((p) => p.bindings);
  const code = [header(described, group, bindings), helperCode(needed), ...parts.map((p) => p.code)];
  return { code: `${code.filter((c) => c !== '').join('\n\n')}\n`, bindings, columns: described };
}

function header(columns: readonly WgslColumn[], group: number, bindings: readonly WgslBinding[]): string {
  const range =
    bindings.length === 0
      ? 'no binding'
      : `bindings ${bindings[0]?.binding}-${bindings[bindings.length - 1]?.binding} of group ${group}`;
  return [
    `// arrow-webgpu: ${columns.length} column(s), ${range}.`,
    '// 64-bit values are vec2<u32> (lo, hi); rows past the table read unspecified values.',
  ].join('\n');
}
