import { paletteWgsl } from './palettes.js';

/** Bytes of the `AwgView` uniform block. */
export const VIEW_BYTES = 144;

/** Bytes between the uniform blocks of a view's passes (the dynamic offset's alignment on every device). */
export const VIEW_STRIDE = 256;

/**
 * What every render program shares, in group 1: the view's uniform block (one per pass, at a dynamic
 * offset) and the filter's row mask (one bit a row, whole table, as validity words), and the functions
 * that read them. Field offsets are those `writeView` writes.
 */
export const VIEW_WGSL = /* wgsl */ `
// A column's map from value to output: (value - origin) * k + b, the origin's words set by the view.
struct AwgChannel { origin: vec2<u32>, k: f32, b: f32 }

struct AwgView {
  x: AwgChannel,
  y: AwgChannel,
  color: AwgChannel,
  // The canvas in device pixels, and half a point in clip units.
  canvas: vec2<f32>,
  half: vec2<f32>,
  // Straight-alpha colours: points without a colour column, and rows whose colour value is null or NaN.
  fill: vec4<f32>,
  null_fill: vec4<f32>,
  // The domain as f32: x lo, x hi, y lo, y hi.
  domain: vec4<f32>,
  pixel_ratio: f32,
  point_size: f32,
  opacity: f32,
  dim: f32,
  rows: u32,
  // 0: this pass draws every row; 1: the rows outside the filter, dimmed; 2: the rows inside it.
  pass_kind: u32,
  has_mask: u32,
  reserved: u32,
}

@group(1) @binding(0) var<uniform> awg_view: AwgView;
@group(1) @binding(1) var<storage, read> awg_mask: array<u32>;

// Whether the filter keeps table row \`row\` (every row without a filter). A filter covers the rows
// its table had when it was made: rows that landed later, past its mask, are outside it.
fn awg_selected(row: u32) -> bool {
  if (awg_view.has_mask == 0u) { return true; }
  let word = row >> 5u;
  if (word >= arrayLength(&awg_mask)) { return false; }
  return ((awg_mask[word] >> (row & 31u)) & 1u) == 1u;
}

// The opacity of table row \`row\` in this pass: 0 when the pass does not draw it.
fn awg_row_alpha(row: u32) -> f32 {
  let selected = awg_selected(row);
  if (awg_view.pass_kind == 1u) { return select(awg_view.opacity * awg_view.dim, 0.0, selected); }
  if (awg_view.pass_kind == 2u) { return select(0.0, awg_view.opacity, selected); }
  return awg_view.opacity;
}

// A point of the domain (f32) in clip space.
fn awg_clip(p: vec2<f32>) -> vec2<f32> {
  let d = awg_view.domain;
  return vec2<f32>((p.x - d.x) / (d.y - d.x), (p.y - d.z) / (d.w - d.z)) * 2.0 - 1.0;
}

${paletteWgsl()}
`;
