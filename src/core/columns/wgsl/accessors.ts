import { type ChunkRange, chunkLookup, u32 } from './chunk-lookup.js';
import type { ColumnWriter } from './column-writer.js';
import { elementType, type ValueShape, valueOps, valueShape, type WgslPlan } from './value-shapes.js';

/** The body of `<id>_valid(row)`: false for a `null` column, true without validity buffers. */
export function validBody(
  isNull: boolean,
  vars: readonly string[] | null,
  chunks: readonly ChunkRange[],
): string[] {
  if (isNull) return ['  return false;'];
  if (!vars) return ['  return true;'];
  return chunkLookup(chunks, (k, local) => bitAt(vars[k] as string, local), 'true');
}

/** A row's bit in packed words: bit `row & 31` of word `local >> 5` (chunks start on a word). */
function bitAt(variable: string, local: string): string {
  return `(${variable}[${local} >> 5u] & (1u << (row & 31u))) != 0u`;
}

/** The index of word `i` (a WGSL expression) of row `local` when each row takes `components` words. */
function wordIndex(local: string, components: number, i: string): string {
  if (components === 1) return i === '0u' ? local : `${local} + ${i}`;
  const start = `${local} * ${u32(components)}`;
  return i === '0u' ? start : `${start} + ${i}`;
}

/** The accessors of the column's values, after its encoding. */
export function accessors(
  out: ColumnWriter,
  plan: WgslPlan,
  vars: readonly string[],
  chunks: readonly ChunkRange[],
): void {
  if (plan.encoding === 'null') return;
  if (plan.encoding === 'bool') {
    const bit = (k: number, local: string) => bitAt(vars[k] as string, local);
    out.fn('value', '(row: u32) -> bool', chunkLookup(chunks, bit, 'false'));
    return;
  }
  const at = (local: string, i: string) => wordIndex(local, plan.components, i);
  const word = (k: number, local: string) => `${vars[k]}[${at(local, 'i')}]`;
  out.fn('word', '(row: u32, i: u32) -> u32', chunkLookup(chunks, word, '0u'));
  const read = (build: ValueShape['build']) => (k: number, local: string) =>
    build((i) => `${vars[k]}[${at(local, u32(i))}]`);
  if (plan.encoding === 'dictionary') {
    out.fn(
      'code',
      '(row: u32) -> u32',
      chunkLookup(
        chunks,
        read((w) => w(0)),
        '0u',
      ),
    );
    return;
  }
  const shape = valueShape(plan);
  if (shape)
    out.fn('value', `(row: u32) -> ${shape.type}`, chunkLookup(chunks, read(shape.build), `${shape.type}()`));
  if (plan.encoding === 'bytes') {
    const byte = `(${out.place.id}_word(row, i >> 2u) >> ((i & 3u) * 8u)) & 0xffu`;
    out.fn('byte', '(row: u32, i: u32) -> u32', [`  return ${byte};`]);
  }
  if (plan.encoding === 'vector') elementAccessor(out, plan);
  for (const op of valueOps(plan)) {
    const params = op.params.map((p) => `${p}: ${shape?.type}`).join(', ');
    out.fn(op.suffix, `(${params}) -> ${op.returns}`, [`  return ${op.helper}(${op.params.join(', ')});`]);
    out.helpers.add(op.helper);
  }
}

/** `<id>_element(row, i)`: a vector's element `i`, a scalar or a (lo, hi) pair. */
function elementAccessor(out: ColumnWriter, plan: WgslPlan): void {
  const id = out.place.id;
  const type = elementType(plan);
  const body =
    type === 'vec2<u32>'
      ? `vec2<u32>(${id}_word(row, 2u * i), ${id}_word(row, 2u * i + 1u))`
      : type === 'u32'
        ? `${id}_word(row, i)`
        : `bitcast<${type}>(${id}_word(row, i))`;
  out.fn('element', `(row: u32, i: u32) -> ${type}`, [`  return ${body};`]);
}
