import { type Table, Type, type Vector } from 'apache-arrow';
import type { DictionaryValue } from '../../src/core/columns/encoders/dictionary-encoder.js';
import type { ColumnPlan } from '../../src/core/columns/type-plan.js';
import type { TableWgsl } from '../../src/core/columns/wgsl/table-wgsl.js';
import { elementType, valueShape } from '../../src/core/columns/wgsl/value-shapes.js';

// One column's checksums, computed twice: by a compute shader through the generated accessors, and
// here from the source values apache-arrow gives, independently of the library's encoders. Every sum
// runs over valid rows and weighs a row's j-th part by (row + 1)(2j + 1), modulo 2^32.

/** What a checksum kernel writes: valid rows, Σ(row + 1), then sums of words, values, derived parts, and an f32 sum. */
export const CHECKSUMS = ['valid rows', 'row weights', 'words', 'values', 'derived', 'f32 sum'] as const;

/** What the CPU model needs beyond the values: the relative offset, the table's dictionary. */
export interface SourceExtras {
  offset?: string;
  dictionary?: readonly DictionaryValue[];
}

const f32Bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0] as number;
const f64Words = (v: number) => [...new Uint32Array(new Float64Array([v]).buffer)];
const words64 = (v: bigint) => [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];
const u64 = (v: unknown) => BigInt.asUintN(64, BigInt(v as bigint));

/** The f32 nearest an integer, ties to even, computed exactly (never through a double). */
export function nearestF32Bits(value: bigint): number {
  const sign = value < 0n ? 0x80000000 : 0;
  let m = value < 0n ? -value : value;
  if (m === 0n) return 0;
  const shift = BigInt(Math.max(0, m.toString(2).length - 24));
  if (shift > 0n) {
    const q = m >> shift;
    const rest = m - (q << shift);
    const half = 1n << (shift - 1n);
    m = rest > half || (rest === half && (q & 1n) === 1n) ? q + 1n : q;
  }
  return (sign | f32Bits(Number(m) * 2 ** Number(shift))) >>> 0;
}

/** A vector element's words (a Bool element as one word, 0 or 1). */
function elementWords(element: string | undefined, v: unknown): number[] {
  switch (element) {
    case 'f32':
      return [f32Bits(Number(v))];
    case 'i64':
    case 'u64':
      return words64(u64(v));
    case 'f64':
      return f64Words(Number(v));
    default:
      return [Number(v) >>> 0];
  }
}

/** The words a source value must be on the GPU (for `bool`, its bit; for `dictionary`, its code). */
export function sourceWords(plan: ColumnPlan, v: unknown, extras: SourceExtras): number[] {
  switch (plan.encoding) {
    case 'f32':
      return [f32Bits(Number(v))];
    case 'i32':
    case 'u32':
      return [Number(v) >>> 0];
    case 'bool':
      return [v ? 1 : 0];
    case 'i64':
    case 'u64':
      return words64(u64(v));
    case 'f64':
      return f64Words(Number(v));
    case 'f32x2': {
      const hi = Math.fround(Number(v));
      return [f32Bits(hi), f32Bits(Number(v) - hi)];
    }
    case 'f32-relative': {
      // Integers (timestamps) subtract exactly; floats subtract as doubles, as the encoder does.
      const offset = extras.offset ?? '0';
      const exact = /^-?\d+$/.test(offset) && (typeof v === 'bigint' || Number.isInteger(v));
      return [f32Bits(exact ? Number(BigInt(v as bigint) - BigInt(offset)) : Number(v) - Number(offset))];
    }
    case 'dictionary':
      return [(extras.dictionary ?? []).indexOf(v as DictionaryValue)];
    case 'bytes': {
      const padded = new Uint8Array(plan.components * 4);
      padded.set(v as Uint8Array);
      return [...new Uint32Array(padded.buffer)];
    }
    case 'vector':
      return [...(v as Iterable<unknown>)].flatMap((e) => elementWords(plan.element, e));
    case 'decimal':
    case 'interval':
      return [...new Uint32Array(Int32Array.from(v as ArrayLike<number>).buffer)];
    default:
      return [];
  }
}

/** Parts of a row beyond its words, from its words and the previous valid row's (`null`: none yet). */
function derivedParts(plan: ColumnPlan, words: number[], prev: number[]): number[] {
  const big = (w: number[]) => BigInt(w[0] ?? 0) | (BigInt(w[1] ?? 0) << 32n);
  const fromBits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0] as number;
  switch (plan.encoding) {
    case 'i64':
    case 'u64': {
      const [a, b] = [big(words), big(prev)];
      const signed = plan.encoding === 'i64';
      const as = (v: bigint) => (signed ? BigInt.asIntN(64, v) : v);
      const mask = (1n << 64n) - 1n;
      return [
        nearestF32Bits(as(a)),
        as(b) < as(a) ? 1 : 0,
        ...words64((a - b) & mask),
        ...words64((a + b) & mask),
      ];
    }
    case 'f64':
      return [f32Bits(Math.fround(new Float64Array(new Uint32Array(words).buffer)[0] as number))];
    case 'f32x2':
      return [f32Bits(fromBits(words[0] as number) + fromBits(words[1] as number))];
    case 'bytes':
      return [...new Uint8Array(new Uint32Array(words).buffer)].slice(0, plan.byteWidth);
    case 'vector':
      return words;
    default:
      return [];
  }
}

/** The checksums of one column from its source rows (`null`: a null row). */
export function expectedChecksums(
  plan: ColumnPlan,
  rows: readonly unknown[],
  extras: SourceExtras,
): number[] {
  const sums = [0, 0, 0, 0, 0, 0];
  const add = (at: number, parts: readonly number[], w: number) => {
    for (const [j, part] of parts.entries())
      sums[at] = (sums[at] as number) + Math.imul(part, Math.imul(w, 2 * j + 1));
  };
  let prev = [0, 0];
  let fsum = 0;
  for (const [row, v] of rows.entries()) {
    if (v === null || plan.encoding === 'null') continue;
    const w = row + 1;
    sums[0] = (sums[0] as number) + 1;
    sums[1] = (sums[1] as number) + w;
    const words = sourceWords(plan, v, extras);
    if (plan.encoding !== 'bool') add(2, words, w);
    if (plan.encoding === 'bool' || valueShape(plan) || plan.encoding === 'dictionary') add(3, words, w);
    add(4, derivedParts(plan, words, prev), w);
    prev = words;
    if (plan.encoding === 'f32' || plan.encoding === 'f32-relative') {
      fsum = Math.fround(fsum + new Float32Array(new Uint32Array(words).buffer)[0]!);
    }
  }
  sums[5] = f32Bits(fsum);
  return sums.map((s) => s >>> 0);
}

/** The WGSL u32 parts of a row's value (`v`), after the declarations that read it. */
function valueLines(plan: ColumnPlan, id: string): { lines: string[]; parts: string[] } {
  if (plan.encoding === 'bool') return { lines: [`let v = ${id}_value(row);`], parts: ['select(0u, 1u, v)'] };
  if (plan.encoding === 'dictionary') return { lines: [`let v = ${id}_code(row);`], parts: ['v'] };
  const shape = valueShape(plan);
  if (!shape) return { lines: [], parts: [] };
  const size = /^vec(\d)/.exec(shape.type)?.[1];
  if (!size) return { lines: [`let v = ${id}_value(row);`], parts: ['bitcast<u32>(v)'] };
  const lines = [`let v = ${id}_value(row);`, `let vu = bitcast<vec${size}<u32>>(v);`];
  return { lines, parts: ['vu.x', 'vu.y', 'vu.z', 'vu.w'].slice(0, Number(size)) };
}

/** The WGSL u32 parts derived from a row through the column's other functions. */
function derivedLines(plan: ColumnPlan, id: string): { lines: string[]; parts: string[] } {
  const each = (n: number, part: (i: number) => string[]) =>
    Array.from({ length: n }, (_, i) => part(i)).flat();
  switch (plan.encoding) {
    case 'i64':
    case 'u64':
      return {
        lines: [`let d = ${id}_sub(v, prev);`, `let s = ${id}_add(v, prev);`],
        parts: [
          `bitcast<u32>(${id}_to_f32(v))`,
          `select(0u, 1u, ${id}_lt(prev, v))`,
          'd.x',
          'd.y',
          's.x',
          's.y',
        ],
      };
    case 'f64':
    case 'f32x2':
      return { lines: [], parts: [`bitcast<u32>(${id}_to_f32(v))`] };
    case 'bytes':
      return { lines: [], parts: each(plan.byteWidth ?? 0, (i) => [`${id}_byte(row, ${i}u)`]) };
    case 'vector': {
      const pair = elementType(plan) === 'vec2<u32>';
      const element = (i: number) => `${id}_element(row, ${i}u)`;
      const parts = each(plan.listSize ?? 0, (i) =>
        pair ? [`${element(i)}.x`, `${element(i)}.y`] : [`bitcast<u32>(${element(i)})`],
      );
      return { lines: [], parts };
    }
    default:
      return { lines: [], parts: [] };
  }
}

/** `total += part * (w * (2j + 1))` for each part. */
const sums = (total: string, parts: readonly string[]) =>
  parts.map((part, j) => `${total} += (${part}) * (w * ${2 * j + 1}u);`);

/**
 * A compute shader (`main`, one invocation) that writes the `CHECKSUMS` of the one column of
 * `generated` to `checksums` at group 0, binding 0, reading it only through the generated functions.
 */
export function checksumKernel(generated: TableWgsl, plan: ColumnPlan, rows: number): string {
  const id = (generated.columns[0] as { identifier: string }).identifier;
  const value = valueLines(plan, id);
  const derived = derivedLines(plan, id);
  const hasWords = plan.encoding !== 'bool' && plan.encoding !== 'null';
  const float = plan.encoding === 'f32' || plan.encoding === 'f32-relative';
  const body = [
    'let w = row + 1u;',
    'n += 1u;',
    'weight += w;',
    ...(hasWords
      ? [
          `for (var i = 0u; i < ${plan.components}u; i++) { words += ${id}_word(row, i) * (w * (2u * i + 1u)); }`,
        ]
      : []),
    ...value.lines,
    ...sums('values', value.parts),
    ...derived.lines,
    ...sums('derived', derived.parts),
    ...(float ? ['fsum = fsum + v;'] : []),
    ...(plan.encoding === 'i64' || plan.encoding === 'u64' ? ['prev = v;'] : []),
  ];
  return `${generated.code}
@group(0) @binding(0) var<storage, read_write> checksums: array<u32>;

@compute @workgroup_size(1) fn main() {
  var n = 0u; var weight = 0u; var words = 0u; var values = 0u; var derived = 0u;
  var fsum = 0.0;
  var prev = vec2<u32>(0u, 0u);
  for (var row = 0u; row < ${rows}u; row++) {
    if (!${id}_valid(row)) { continue; }
${body.map((line) => `    ${line}`).join('\n')}
  }
  checksums[0] = n; checksums[1] = weight; checksums[2] = words;
  checksums[3] = values; checksums[4] = derived; checksums[5] = bitcast<u32>(fsum);
}
`;
}

/** Each row of a column of `table` (`parent.child` for struct children), `null` where it or a parent is null. */
export function sourceRows(table: Table, name: string): unknown[] {
  const [top, ...rest] = name.split('.');
  const chain: Vector[] = [table.getChild(top as string) as Vector];
  for (const part of rest) chain.push((chain[chain.length - 1] as Vector).getChild(part as never) as Vector);
  const vector = chain[chain.length - 1] as Vector;
  return Array.from({ length: table.numRows }, (_, i) => {
    // apache-arrow's isValid says every row of a Null column is valid.
    if (vector.type.typeId === Type.Null || !chain.every((v) => v.isValid(i))) return null;
    const value = vector.get(i);
    return vector.type.typeId === Type.FixedSizeList ? [...(value as Iterable<unknown>)] : value;
  });
}
