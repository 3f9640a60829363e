import type { Channel } from './channel.js';

/**
 * WGSL that reads a drawn column's value as an f32 relative to an origin (see channel.ts), and whether
 * it can be drawn: neither null nor NaN nor infinite. Integers are subtracted exactly in 64 bits and
 * rounded once; a double is split into two f32s (its top 24 significant bits, then the next 29 rounded
 * to 24), each subtracted from its half of the origin, so that a domain close to the values keeps about
 * 48 bits of them.
 */
export const REL_HELPERS = /* wgsl */ `
struct AwgRel { value: f32, ok: bool }

// A double (IEEE bits lo, hi) as hi + lo in f32: hi is exact, lo rounded; zero and subnormals give 0.
fn awg_f64_split(b: vec2<u32>) -> vec2<f32> {
  let e = i32((b.y >> 20u) & 0x7ffu);
  if (e == 0) { return vec2<f32>(0.0, 0.0); }
  let sign = select(1.0, -1.0, (b.y & 0x80000000u) != 0u);
  let top = 0x800000u | ((b.y & 0xfffffu) << 3u) | (b.x >> 29u);
  let rest = b.x & 0x1fffffffu;
  // Exponents clamped so that ldexp stays in f32's range (beyond it the result is indeterminate).
  let hi = ldexp(f32(top), clamp(e - 1046, -170, 104));
  let lo = ldexp(f32(rest), clamp(e - 1075, -179, 98));
  return vec2<f32>(sign * hi, sign * lo);
}

// v - o for two's complement 64-bit integers (lo, hi), exact, then rounded to the nearest f32.
fn awg_rel_i64(v: vec2<u32>, o: vec2<u32>) -> f32 {
  if (awg_i64_lt(v, o)) { return -awg_u64_to_f32(awg_u64_sub(o, v)); }
  return awg_u64_to_f32(awg_u64_sub(v, o));
}

// v - o for unsigned 64-bit integers (lo, hi), exact, then rounded to the nearest f32.
fn awg_rel_u64(v: vec2<u32>, o: vec2<u32>) -> f32 {
  if (awg_u64_lt(v, o)) { return -awg_u64_to_f32(awg_u64_sub(o, v)); }
  return awg_u64_to_f32(awg_u64_sub(v, o));
}
`;

/** The helpers `REL_HELPERS` calls, from the column WGSL's shared functions. */
export const REL_HELPER_NEEDS: readonly string[] = [
  'awg_i64_lt',
  'awg_u64_lt',
  'awg_u64_sub',
  'awg_u64_to_f32',
];

/** The expression of a row's value as a 64-bit integer (lo, hi), for integer-like encodings. */
function wideValue(channel: Channel, id: string): string {
  switch (channel.column.plan.encoding) {
    case 'i32':
      return `vec2<u32>(bitcast<u32>(${id}_value(row)), select(0u, 0xffffffffu, ${id}_value(row) < 0))`;
    case 'u32':
      return `vec2<u32>(${id}_value(row), 0u)`;
    case 'dictionary':
      return `vec2<u32>(${id}_code(row), 0u)`;
    case 'bool':
      return `vec2<u32>(select(0u, 1u, ${id}_value(row)), 0u)`;
    default:
      return `${id}_value(row)`;
  }
}

/**
 * `fn awg_rel_<name>(row: u32, o: vec2<u32>) -> AwgRel`: the value of row `row` of the column whose
 * accessors start with `id`, less the origin `o` (whose words `channelMap` wrote).
 */
export function relFunction(name: string, channel: Channel, id: string): string {
  const head = `fn awg_rel_${name}(row: u32, o: vec2<u32>) -> AwgRel {`;
  switch (channel.kind) {
    case 'float':
      return `${head}
  let w = ${id}_word(row, 0u);
  let ok = ${id}_valid(row) && (w & 0x7f800000u) != 0x7f800000u;
  return AwgRel((bitcast<f32>(w) - bitcast<f32>(o.x)) - bitcast<f32>(o.y), ok);
}`;
    case 'f64':
      return `${head}
  let b = ${id}_value(row);
  let ok = ${id}_valid(row) && (b.y & 0x7ff00000u) != 0x7ff00000u;
  let v = awg_f64_split(b);
  return AwgRel((v.x - bitcast<f32>(o.x)) + (v.y - bitcast<f32>(o.y)), ok);
}`;
    case 'signed':
      return `${head}
  return AwgRel(awg_rel_i64(${wideValue(channel, id)}, o), ${id}_valid(row));
}`;
    case 'unsigned':
      return `${head}
  return AwgRel(awg_rel_u64(${wideValue(channel, id)}, o), ${id}_valid(row));
}`;
  }
}
