import { ArgumentError, ColumnError } from '../errors.js';
import type { UploadedColumn } from '../gpu/upload/table-uploader.js';

/** `NO_SUCH_COLUMN` for `name`, listing the columns the table has. */
export function noSuchColumn(name: string, columns: readonly UploadedColumn[]): ColumnError {
  const names = columns.map((c) => JSON.stringify(c.plan.name)).join(', ');
  return new ColumnError(
    'NO_SUCH_COLUMN',
    `No column ${JSON.stringify(name)} in this table; it has ${names}`,
    {
      column: name,
    },
  );
}

/**
 * The columns `names` selects, in the order named, each once; a struct's name selects its children
 * (`point` → `point.x`, `point.y`), as `load`'s `columns` does. All of them when `names` is undefined.
 */
export function pickColumns(
  columns: readonly UploadedColumn[],
  names: readonly string[] | undefined,
): UploadedColumn[] {
  if (names === undefined) return [...columns];
  if (!Array.isArray(names) || names.some((name) => typeof name !== 'string')) {
    throw new ArgumentError(`names must be an array of column names, not ${String(names)}`, {
      option: 'names',
    });
  }
  const picked: UploadedColumn[] = [];
  for (const name of names) {
    const matches = columns.filter((c) => c.plan.name === name || c.plan.name.startsWith(`${name}.`));
    if (matches.length === 0) throw noSuchColumn(name, columns);
    for (const match of matches) if (!picked.includes(match)) picked.push(match);
  }
  return picked;
}
