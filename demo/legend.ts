import { TABLEAU10, viridis } from '../src/core/gpu/render/palettes.js';
import type { GpuTable, Range } from '../src/index.js';
import { byId, make } from './dom.js';

const MAX_ITEMS = 24;

/** The scatter's colour key: a swatch per category (the renderer's palette) or the numeric ramp's ends. */
export async function showLegend(table: GpuTable, color: string | null, domain: Range | null): Promise<void> {
  const legend = byId('legend');
  if (!color) {
    legend.replaceChildren();
    return;
  }
  const column = table.columns.find((c) => c.name === color);
  if (column?.encoding === 'dictionary' || column?.encoding === 'bool') {
    const values = column.encoding === 'bool' ? [false, true] : await table.dictionary(color);
    const items = values.slice(0, MAX_ITEMS).map((value, k) => {
      const swatch = make('i');
      swatch.style.background = TABLEAU10[k % TABLEAU10.length] as string;
      const item = make('li');
      item.append(swatch, String(value));
      return item;
    });
    if (values.length > MAX_ITEMS) items.push(make('li', '', `+${values.length - MAX_ITEMS} more`));
    legend.replaceChildren(...items);
    return;
  }
  const ramp = make('i', 'ramp');
  const stops = Array.from({ length: 9 }, (_, i) => {
    const [r, g, b] = viridis(i / 8).map((c) => Math.round(c * 255));
    return `rgb(${r} ${g} ${b}) ${(i / 8) * 100}%`;
  });
  ramp.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  const [lo, hi] = domain ?? [0, 1];
  const item = make('li');
  item.append(`${color}  ${format(lo)}`, ramp, format(hi));
  legend.replaceChildren(item);
}

function format(v: number): string {
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(2) : v.toFixed(2);
}
