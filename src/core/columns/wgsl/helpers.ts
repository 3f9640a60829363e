/**
 * The shared WGSL functions (`awg_` names) that column accessors call: 64-bit integer arithmetic in
 * u32 pairs, conversions to f32 rounded exactly as `Math.fround` rounds, and double-single arithmetic.
 * Each is emitted once per module, and only when a column needs it (or every one, on request).
 */
interface Helper {
  /** Helpers this one calls. */
  uses: readonly string[];
  code: string;
}

const HELPERS: Readonly<Record<string, Helper>> = {
  awg_u64_lt: {
    uses: [],
    code: `// a < b for unsigned 64-bit integers held as (lo, hi).
fn awg_u64_lt(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y < b.y || (a.y == b.y && a.x < b.x);
}`,
  },
  awg_i64_lt: {
    uses: ['awg_u64_lt'],
    code: `// a < b for two's complement 64-bit integers held as (lo, hi): flipping the sign bit orders them unsigned.
fn awg_i64_lt(a: vec2<u32>, b: vec2<u32>) -> bool {
  let flip = vec2<u32>(0u, 0x80000000u);
  return awg_u64_lt(a ^ flip, b ^ flip);
}`,
  },
  awg_u64_add: {
    uses: [],
    code: `// a + b modulo 2^64, for signed and unsigned alike (two's complement); the carry comes from the low words.
fn awg_u64_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}`,
  },
  awg_u64_sub: {
    uses: [],
    code: `// a - b modulo 2^64, for signed and unsigned alike (two's complement); the borrow comes from the low words.
fn awg_u64_sub(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}`,
  },
  awg_shift_round: {
    uses: [],
    code: `// (hi:lo) >> shift rounded to nearest, ties to even; shift in [1, 63] and the result within 32 bits.
// WGSL takes shift amounts modulo 32, so each word is shifted by less than 32.
fn awg_shift_round(v: vec2<u32>, shift: u32) -> u32 {
  var q: u32;
  if (shift >= 32u) { q = v.y >> (shift - 32u); } else { q = (v.x >> shift) | (v.y << (32u - shift)); }
  let k = shift - 1u; // the first bit shifted out
  var half: u32;
  var below: bool;
  if (k >= 32u) {
    half = (v.y >> (k - 32u)) & 1u;
    below = v.x != 0u || (v.y & ((1u << (k - 32u)) - 1u)) != 0u;
  } else {
    half = (v.x >> k) & 1u;
    below = (v.x & ((1u << k) - 1u)) != 0u;
  }
  if (half == 1u && (below || (q & 1u) == 1u)) { q += 1u; }
  return q;
}`,
  },
  awg_u64_to_f32_bits: {
    uses: ['awg_shift_round'],
    code: `// The bits of the f32 nearest an unsigned 64-bit integer (lo, hi), ties to even: exact rounding.
fn awg_u64_to_f32_bits(v: vec2<u32>) -> u32 {
  if (v.x == 0u && v.y == 0u) { return 0u; }
  var top: u32; // the leading one's bit
  if (v.y != 0u) { top = 32u + firstLeadingBit(v.y); } else { top = firstLeadingBit(v.x); }
  // The significand's leading one lands in the exponent field, hence 126 and not 127.
  if (top <= 23u) { return ((126u + top) << 23u) + (v.x << (23u - top)); }
  return ((126u + top) << 23u) + awg_shift_round(v, top - 23u);
}`,
  },
  awg_i64_to_f32_bits: {
    uses: ['awg_u64_to_f32_bits', 'awg_u64_sub'],
    code: `// The bits of the f32 nearest a two's complement 64-bit integer (lo, hi), ties to even: exact rounding.
fn awg_i64_to_f32_bits(v: vec2<u32>) -> u32 {
  if ((v.y & 0x80000000u) == 0u) { return awg_u64_to_f32_bits(v); }
  return 0x80000000u | awg_u64_to_f32_bits(awg_u64_sub(vec2<u32>(0u, 0u), v));
}`,
  },
  awg_f64_to_f32_bits: {
    uses: ['awg_shift_round'],
    code: `// The bits of the f32 nearest a double (IEEE 754 bits lo, hi), as Math.fround rounds: ties to even,
// overflow to +-Inf, underflow through f32 subnormals to +-0; a NaN becomes the quiet NaN of its sign.
fn awg_f64_to_f32_bits(v: vec2<u32>) -> u32 {
  let sign = v.y & 0x80000000u;
  let exponent = (v.y >> 20u) & 0x7ffu;
  if (exponent == 0x7ffu) {
    return sign | select(0x7f800000u, 0x7fc00000u, (v.y & 0xfffffu) != 0u || v.x != 0u);
  }
  let e = i32(exponent) - 896; // the f32 biased exponent (1023 - 127)
  if (e >= 255) { return sign | 0x7f800000u; }
  let significand = vec2<u32>(v.x, (v.y & 0xfffffu) | 0x100000u); // 53 bits, the leading one explicit
  // A carry out of the rounded significand moves the exponent up (to Inf past the largest f32).
  if (e >= 1) { return sign | ((u32(e - 1) << 23u) + awg_shift_round(significand, 29u)); }
  let shift = u32(30 - e); // subnormal: a count of 2^-149
  if (shift > 63u) { return sign; }
  return sign | awg_shift_round(significand, shift);
}`,
  },
  awg_u64_to_f32: {
    uses: ['awg_u64_to_f32_bits'],
    code: `fn awg_u64_to_f32(v: vec2<u32>) -> f32 { return bitcast<f32>(awg_u64_to_f32_bits(v)); }`,
  },
  awg_i64_to_f32: {
    uses: ['awg_i64_to_f32_bits'],
    code: `fn awg_i64_to_f32(v: vec2<u32>) -> f32 { return bitcast<f32>(awg_i64_to_f32_bits(v)); }`,
  },
  awg_f64_to_f32: {
    uses: ['awg_f64_to_f32_bits'],
    code: `// f32 arithmetic on the result may flush subnormals to zero and need not keep NaN or Inf.
fn awg_f64_to_f32(v: vec2<u32>) -> f32 { return bitcast<f32>(awg_f64_to_f32_bits(v)); }`,
  },
  awg_f32x2_value: {
    uses: [],
    code: `// hi + lo of a double-single pair (hi, lo) in f32: lo below half an ulp of hi (2^-24 hi) is lost;
// keep the pair (awg_ds_add, awg_ds_sub) to compute with ~48 bits.
fn awg_f32x2_value(v: vec2<f32>) -> f32 { return v.x + v.y; }`,
  },
  awg_ds_add: {
    uses: [],
    code: `// a + b of double-single pairs (hi, lo): two-sums of both parts, renormalised twice; relative error
// below 2^-44. Relies on IEEE f32 addition without reassociation (a fast-math compiler would undo it).
fn awg_ds_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = a.x + b.x;
  let sb = s - a.x;
  var e = (a.x - (s - sb)) + (b.x - sb);
  let t = a.y + b.y;
  let tb = t - a.y;
  let f = (a.y - (t - tb)) + (b.y - tb);
  e += t;
  let s2 = s + e;
  e = e - (s2 - s) + f;
  let hi = s2 + e;
  return vec2<f32>(hi, e - (hi - s2));
}`,
  },
  awg_ds_sub: {
    uses: ['awg_ds_add'],
    code: `// a - b of double-single pairs (hi, lo), as awg_ds_add.
fn awg_ds_sub(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> { return awg_ds_add(a, -b); }`,
  },
};

/** The name of every shared helper, in the order they are emitted. */
export const HELPER_NAMES: readonly string[] = Object.keys(HELPERS);

/** The WGSL of the named helpers and of those they call, each once, in a fixed order. */
export function helperCode(needed: Iterable<string>): string {
  const wanted = new Set<string>();
  const add = (name: string) => {
    const helper = HELPERS[name];
    if (!helper) throw new Error(`no WGSL helper ${name}`);
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const use of helper.uses) add(use);
  };
  for (const name of needed) add(name);
  return HELPER_NAMES.filter((name) => wanted.has(name))
    .map((name) => (HELPERS[name] as Helper).code)
    .join('\n\n');
}
