import { DEFAULT_POINT_COLOR, TABLEAU10, VIRIDIS_COEFFICIENTS } from '../src/core/gpu/render/palettes.js';
import type { ColumnInfo } from '../src/index.js';

/** How the shader reads a column's 32-bit words (`KIND.none`: no colour column). */
export const KIND = { f32: 0, i32: 1, u32: 2, code: 3, bool: 4, none: 5 } as const;

/**
 * The shader's reading of `column` as a position (`color` false) or a colour; `null` for encodings this
 * small pipeline does not read (64-bit and wider ones: the worker's renderer draws those).
 */
export function kindOf(column: ColumnInfo, color: boolean): number | null {
  switch (column.encoding) {
    case 'f32':
    case 'f32-relative':
      return KIND.f32;
    case 'i32':
      return KIND.i32;
    case 'u32':
      return KIND.u32;
    case 'dictionary':
      return color ? KIND.code : null;
    case 'bool':
      return color ? KIND.bool : null;
    default:
      return null;
  }
}

const rgb = (hex: string) =>
  [1, 3, 5].map((i) => (Number.parseInt(hex.slice(i, i + 2), 16) / 255).toFixed(4)).join(', ');
const f = (v: number) => v.toFixed(16);

/**
 * One point a row (`vertex_index` is the row; the draw of a row range starts there). Each column is
 * bound as the chunk that holds the range, read at `row - first row of the chunk`; a null x, y or colour
 * (its validity bit clear) puts the point outside the clip volume, so that it is not drawn.
 */
export const SHADER = /* wgsl */ `
struct Params {
  domain: vec4f,     // x0, x1, y0, y1
  color: vec4f,      // ramp low, ramp high, alpha
  kinds: vec4u,      // x, y, colour kinds; w: bit c set when column c (x, y, colour) has validity
  values: vec4u,     // first row of the bound value chunk of x, y, colour
  validity: vec4u,   // first row of the bound validity chunk of x, y, colour
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<u32>;
@group(0) @binding(2) var<storage, read> ys: array<u32>;
@group(0) @binding(3) var<storage, read> cs: array<u32>;
@group(0) @binding(4) var<storage, read> xv: array<u32>;
@group(0) @binding(5) var<storage, read> yv: array<u32>;
@group(0) @binding(6) var<storage, read> cv: array<u32>;

const palette = array(${TABLEAU10.map((c) => `vec3f(${rgb(c)})`).join(', ')});
const viridisC = array(${VIRIDIS_COEFFICIENTS.map((c) => `vec3f(${c.map(f).join(', ')})`).join(', ')});

struct Out { @builtin(position) position: vec4f, @location(0) color: vec4f }

fn number(word: u32, kind: u32) -> f32 {
  if (kind == ${KIND.f32}u) { return bitcast<f32>(word); }
  if (kind == ${KIND.i32}u) { return f32(bitcast<i32>(word)); }
  return f32(word);
}
fn bit(word: u32, row: u32) -> bool { return ((word >> (row & 31u)) & 1u) == 1u; }
fn viridis(t: f32) -> vec3f {
  var c = viridisC[6];
  for (var i = 5; i >= 0; i--) { c = viridisC[i] + t * c; }
  return clamp(c, vec3f(0.0), vec3f(1.0));
}

@vertex fn vs(@builtin(vertex_index) row: u32) -> Out {
  var out: Out;
  out.position = vec4f(2.0, 2.0, 2.0, 1.0);
  let x = row - p.validity.x;
  let y = row - p.validity.y;
  let c = row - p.validity.z;
  if ((p.kinds.w & 1u) != 0u && !bit(xv[x >> 5u], x)) { return out; }
  if ((p.kinds.w & 2u) != 0u && !bit(yv[y >> 5u], y)) { return out; }
  if ((p.kinds.w & 4u) != 0u && !bit(cv[c >> 5u], c)) { return out; }
  let at = vec2f(number(xs[row - p.values.x], p.kinds.x), number(ys[row - p.values.y], p.kinds.y));
  out.position = vec4f((at - p.domain.xz) / (p.domain.yw - p.domain.xz) * 2.0 - 1.0, 0.0, 1.0);
  let k = p.kinds.z;
  let word = cs[row - p.values.z];
  var color = vec3f(${rgb(DEFAULT_POINT_COLOR)});
  if (k == ${KIND.code}u) { color = palette[word % 10u]; }
  else if (k == ${KIND.bool}u) { color = palette[select(0u, 1u, bit(cs[(row - p.values.z) >> 5u], row - p.values.z))]; }
  else if (k != ${KIND.none}u) { color = viridis((number(word, k) - p.color.x) / (p.color.y - p.color.x)); }
  out.color = vec4f(color * p.color.z, p.color.z);
  return out;
}
@fragment fn fs(@location(0) color: vec4f) -> @location(0) vec4f { return color; }`;
