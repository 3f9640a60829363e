import { WGSL_RESERVED } from './reserved-words.js';

/**
 * A WGSL identifier spelt from a column name: accents dropped, every run of other characters (`.` of
 * struct children, spaces, symbols) one `_`, a leading digit or a reserved word behind `c_`, an empty
 * spelling `column`. Only ASCII, because identifiers reach host code and messages as well as compilers.
 */
export function baseIdentifier(name: string, prefix = ''): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const spelt = ascii
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  const id = `${prefix}${spelt || 'column'}`;
  if (/^[0-9]/.test(id) || WGSL_RESERVED.has(id)) return `c_${id}`;
  return id;
}

/**
 * The first of `base`, `base_2`, `base_3`… such that neither it nor any name `declares(id)` lists is
 * reserved or already in `taken`; those names are then added to `taken`. Checking every declared name,
 * not the identifier alone, keeps `x` (declaring `x_0`) and a column spelt `x_0` (declaring `x_0_0`)
 * apart whatever the chunk counts.
 */
export function claimIdentifier(
  base: string,
  declares: (id: string) => string[],
  taken: Set<string>,
): string {
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}_${n}`;
    const names = [id, ...declares(id)];
    if (names.some((name) => taken.has(name) || WGSL_RESERVED.has(name))) continue;
    for (const name of names) taken.add(name);
    return id;
  }
}
