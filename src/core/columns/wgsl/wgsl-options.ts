import { ArgumentError } from '../../errors.js';

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

const HELPER_MODES = ['needed', 'all', 'none'] as const;

/** Throws `INVALID_ARGUMENT` naming the first option out of range. */
export function checkWgslOptions(options: WgslOptions): void {
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
