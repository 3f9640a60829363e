import type { Encoding, SchemaColumn } from '../src/index.js';
import { byId, make } from './dom.js';

/** The columns a view draws: scatter position and colour, and the histograms' columns. */
export interface Choice {
  x: string | null;
  y: string | null;
  color: string | null;
  histograms: string[];
}

/** Encodings the renderer and the histograms read as numbers. */
const NUMERIC: readonly Encoding[] = ['f32', 'f32-relative', 'f64', 'i32', 'u32', 'i64', 'u64'];
/** Encodings that colour by category. */
const CATEGORICAL: readonly Encoding[] = ['dictionary', 'bool'];
const MAX_HISTOGRAMS = 4;

const numeric = (c: SchemaColumn) => NUMERIC.includes(c.encoding);

/** The default choice for a schema: longitude/latitude-like or the first two numbers, the first category. */
export function defaultChoice(columns: readonly SchemaColumn[]): Choice {
  const numbers = columns.filter(numeric);
  const named = (pattern: RegExp) => numbers.find((c) => pattern.test(c.name))?.name;
  const x = named(/(^|_)(lon|lng|longitude|x)$/i) ?? numbers[0]?.name ?? null;
  const y = named(/(^|_)(lat|latitude|y)$/i) ?? numbers.find((c) => c.name !== x)?.name ?? null;
  const color = columns.find((c) => CATEGORICAL.includes(c.encoding))?.name ?? null;
  const others = numbers.filter((c) => c.name !== x && c.name !== y).map((c) => c.name);
  const histograms = (others.length > 0 ? others : numbers.map((c) => c.name)).slice(0, MAX_HISTOGRAMS);
  return { x, y, color, histograms };
}

/**
 * Fills the x, y and colour selects from an inspected schema (numbers for positions; numbers and
 * categories, or none, for colour) and reports the user's changes; `clear` empties them.
 */
export class ColumnPickers {
  private readonly x = byId<HTMLSelectElement>('pick-x');
  private readonly y = byId<HTMLSelectElement>('pick-y');
  private readonly color = byId<HTMLSelectElement>('pick-color');

  constructor(onChange: (choice: Pick<Choice, 'x' | 'y' | 'color'>) => void) {
    for (const select of [this.x, this.y, this.color])
      select.addEventListener('change', () => onChange(this.value()));
    this.clear();
  }

  /** Offers the schema's columns and selects `choice`. */
  fill(columns: readonly SchemaColumn[], choice: Choice): void {
    const numbers = columns.filter(numeric);
    const colours = columns.filter((c) => numeric(c) || CATEGORICAL.includes(c.encoding));
    this.options(this.x, numbers, choice.x, false);
    this.options(this.y, numbers, choice.y, false);
    this.options(this.color, colours, choice.color, true);
  }

  /** No schema: empty, disabled selects. */
  clear(): void {
    for (const select of [this.x, this.y, this.color]) this.options(select, [], null, false);
  }

  value(): Pick<Choice, 'x' | 'y' | 'color'> {
    return { x: this.x.value || null, y: this.y.value || null, color: this.color.value || null };
  }

  private options(
    select: HTMLSelectElement,
    columns: readonly SchemaColumn[],
    chosen: string | null,
    none: boolean,
  ) {
    const options = columns.map((c) => {
      const option = make('option', '', c.name);
      option.value = c.name;
      option.title = `${c.arrowType} → ${c.encoding}`;
      return option;
    });
    if (none) {
      const option = make('option', '', 'none');
      option.value = '';
      options.unshift(option);
    }
    select.replaceChildren(...options);
    select.value = chosen ?? '';
    select.disabled = columns.length === 0;
  }
}
