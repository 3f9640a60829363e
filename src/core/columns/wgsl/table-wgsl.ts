import { ArgumentError } from '../../errors.js';
import { type ColumnWgsl, columnWgsl, type WgslBinding, type WgslColumnInput } from './column-wgsl.js';
import { HELPER_NAMES, helperCode } from './helpers.js';
import { baseIdentifier, claimIdentifier } from './identifiers.js';

/** Where the generated declarations bind, and what else the module gets. */
export interface WgslOptions {
  /** The `@group` of every binding (default 0). */
  group?: number;
  /** The `@binding` of the first buffer; the others follow one by one (default 0). */
  firstBinding?: number;
  /** Put before every column identifier, to keep two tables apart in one shader (default none). */
  prefix?: string;
  /**
   * The shared `awg_` functions: those the columns call (`'needed'`, the default), all of them
   * (`'all'`), or none (`'none'`: another module of the same shader has them; ask it for `'all'`).
   */
  helpers?: 'needed' | 'all' | 'none';
}

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

const HELPER_MODES = ['needed', 'all', 'none'] as const;

/**
 * The WGSL that lets a shader read `columns`: the shared helpers, then each column's buffers and
 * accessors (`columnWgsl`), bindings numbered on from `firstBinding` in column order. Identifiers
 * come from the column names, each unique in the module (and apart from every shared helper's name).
 */
export function tableWgsl(columns: readonly WgslColumnInput[], options: WgslOptions = {}): TableWgsl {
  const { group = 0, firstBinding = 0, prefix = '', helpers = 'needed' } = options;
  checkWgslOptions(options);
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

/** Throws `INVALID_ARGUMENT` naming the first option out of range. */
function checkWgslOptions(options: WgslOptions): void {
  const fail = (option: keyof WgslOptions, expected: string) => {
    const actual = JSON.stringify(options[option]) ?? String(options[option]);
    throw new ArgumentError(`wgsl: ${option} must be ${expected}, not ${actual}`, { option });
  };
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError(`wgsl: options must be an object, not ${String(options)}`, { option: 'options' });
  }
  const index = (n: unknown) =>
    n === undefined || (Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) < 2 ** 31);
  if (!index(options.group)) fail('group', 'an integer from 0');
  if (!index(options.firstBinding)) fail('firstBinding', 'an integer from 0');
  const { prefix, helpers } = options;
  if (prefix !== undefined && !(typeof prefix === 'string' && /^([A-Za-z][A-Za-z0-9_]*)?$/.test(prefix))) {
    fail('prefix', 'ASCII letters, digits and _, starting with a letter');
  }
  if (helpers !== undefined && !HELPER_MODES.includes(helpers)) fail('helpers', '"needed", "all" or "none"');
}
