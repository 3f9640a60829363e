import type { Encoding } from '../../columns/encoding.js';

/**
 * WGSL shared by every query kernel: group 0 is one column chunk (values, validity, where it lies), and
 * `item(i)` reads row `i` of the chunk as an ordered key (see ordered-keys.ts), its class (finite, NaN,
 * ±Infinity: found from the bits, since WGSL may assume floats are neither) and what it adds to a sum.
 */
const PRELUDE = /* wgsl */ `
struct Chunk { rows: u32, wordOffset: u32, hasValidity: u32, partialBase: u32 }
struct Item { cls: u32, key: vec2<u32>, wide: vec4<u32>, f: f32 }
const FINITE = 0u;
const NAN = 1u;
const POS_INF = 2u;
const NEG_INF = 3u;
@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<storage, read> validity: array<u32>;
@group(0) @binding(2) var<uniform> chunk: Chunk;

fn validAt(i: u32) -> bool {
  if (chunk.hasValidity == 0u) { return true; }
  return ((validity[i >> 5u] >> (i & 31u)) & 1u) == 1u;
}

fn signWord(w: u32) -> u32 { return select(0u, 0xffffffffu, (w & 0x80000000u) != 0u); }

fn keyLess(a: vec2<u32>, b: vec2<u32>) -> bool { return a.x < b.x || (a.x == b.x && a.y < b.y); }

fn add128(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
  var r: vec4<u32>;
  var carry = 0u;
  for (var k = 0u; k < 4u; k++) {
    let s = a[k] + b[k];
    let t = s + carry;
    carry = select(0u, 1u, s < a[k]) + select(0u, 1u, t < s);
    r[k] = t;
  }
  return r;
}

fn emptyItem() -> Item { return Item(FINITE, vec2<u32>(0u, 0u), vec4<u32>(0u), 0.0); }
`;

/** IEEE classes and keys of f32 bits. */
const F32_ITEM = /* wgsl */ `
fn item(i: u32) -> Item {
  let b = values[i];
  var it = emptyItem();
  it.key = vec2<u32>(0u, select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u));
  if ((b & 0x7f800000u) == 0x7f800000u) {
    if ((b & 0x7fffffu) != 0u) { it.cls = NAN; } else { it.cls = select(POS_INF, NEG_INF, b > 0x7fffffffu); }
  } else {
    it.f = bitcast<f32>(b);
  }
  return it;
}`;

/** f64 bits: exact keys; the sum takes the top 24 bits of the significand (truncated to f32). */
const F64_ITEM = /* wgsl */ `
fn item(i: u32) -> Item {
  let lo = values[2u * i];
  let hi = values[2u * i + 1u];
  var it = emptyItem();
  let negative = (hi & 0x80000000u) != 0u;
  it.key = select(vec2<u32>(hi | 0x80000000u, lo), vec2<u32>(~hi, ~lo), negative);
  let e = (hi >> 20u) & 0x7ffu;
  if (e == 0x7ffu) {
    if (((hi & 0xfffffu) | lo) != 0u) { it.cls = NAN; } else { it.cls = select(POS_INF, NEG_INF, negative); }
  } else if (e != 0u) {
    let m = 0x800000u | ((hi & 0xfffffu) << 3u) | (lo >> 29u);
    // Clamped so that ldexp stays in f32's range (2^128 and beyond would be indeterminate, not Infinity).
    let magnitude = ldexp(f32(m), clamp(i32(e) - 1046, -170, 104));
    it.f = select(magnitude, -magnitude, negative);
  }
  return it;
}`;

const INTEGER_ITEMS: Partial<Record<Encoding, string>> = {
  i32: `let b = values[i]; let s = signWord(b);
  it.key = vec2<u32>(s ^ 0x80000000u, b); it.wide = vec4<u32>(b, s, s, s);`,
  u32: `let b = values[i]; it.key = vec2<u32>(0u, b); it.wide = vec4<u32>(b, 0u, 0u, 0u);`,
  i64: `let lo = values[2u * i]; let hi = values[2u * i + 1u]; let s = signWord(hi);
  it.key = vec2<u32>(hi ^ 0x80000000u, lo); it.wide = vec4<u32>(lo, hi, s, s);`,
  u64: `let lo = values[2u * i]; let hi = values[2u * i + 1u];
  it.key = vec2<u32>(hi, lo); it.wide = vec4<u32>(lo, hi, 0u, 0u);`,
  bool: `let b = (values[i >> 5u] >> (i & 31u)) & 1u; it.key = vec2<u32>(0u, b); it.wide = vec4<u32>(b, 0u, 0u, 0u);`,
  dictionary: `let b = values[i]; it.key = vec2<u32>(0u, b);`,
};

/** The prelude and `item(i)` for `encoding` (which `queryColumn` accepted). */
export function itemWgsl(encoding: Encoding): string {
  if (encoding === 'f32' || encoding === 'f32-relative') return PRELUDE + F32_ITEM;
  if (encoding === 'f64') return PRELUDE + F64_ITEM;
  const body = INTEGER_ITEMS[encoding];
  if (!body) throw new Error(`no query kernel reads ${encoding}`);
  return `${PRELUDE}\nfn item(i: u32) -> Item {\n  var it = emptyItem();\n  ${body}\n  return it;\n}`;
}

/**
 * The largest power-of-two workgroup size the device allows, at most 64: larger ones reduce no faster
 * here and SwiftShader compiles each kernel several times slower (4.5 s against 1.6 s at 256).
 */
export function workgroupSize(device: GPUDevice): number {
  const { maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX } = device.limits;
  const limit = Math.min(64, maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX);
  return 2 ** Math.floor(Math.log2(limit));
}
