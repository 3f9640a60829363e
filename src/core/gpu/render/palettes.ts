/**
 * The colour ramps of the built-in point renderer, shared by its WGSL and by code that needs the same
 * colours on the CPU (legends, tests). Colours are sRGB-encoded components in [0, 1], written to the
 * canvas as they are (the canvas format is not an `-srgb` one).
 */

/**
 * Viridis as a degree-6 polynomial in t ∈ [0, 1] (Matt Zucconi's least-squares fit of matplotlib's
 * table): c0 + t·c1 + … + t⁶·c6 per channel, within about 4/255 of the table.
 */
export const VIRIDIS_COEFFICIENTS: readonly (readonly [number, number, number])[] = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

/** Tableau 10 (2016), the categorical palette: code `k` of a dictionary column gets colour `k mod 10`. */
export const TABLEAU10: readonly string[] = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

/** The colour of points without a colour column. */
export const DEFAULT_POINT_COLOR = '#4e79a7';

/** The colour of rows whose colour value is null or NaN. */
export const NULL_COLOR = '#a0a0a0';

/** Opacity multiplier of rows outside the filter in `filterMode: 'dim'`. */
export const DIM_OPACITY = 0.2;

/** `#rrggbb` as components in [0, 1]. */
export function hexColor(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

/** Viridis at `t` (clamped to [0, 1]), evaluated in f64 as the shader evaluates it in f32. */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const out: [number, number, number] = [0, 0, 0];
  for (let channel = 0; channel < 3; channel++) {
    let v = 0;
    for (let k = VIRIDIS_COEFFICIENTS.length - 1; k >= 0; k--) {
      v = v * x + (VIRIDIS_COEFFICIENTS[k] as readonly number[])[channel]!;
    }
    out[channel] = Math.min(1, Math.max(0, v));
  }
  return out;
}

/** A WGSL `vec3<f32>` literal. */
function vec3(c: readonly number[]): string {
  return `vec3<f32>(${c.map((v) => v.toPrecision(9)).join(', ')})`;
}

/** `awg_viridis(t)` and `awg_category(code)` in WGSL, with the constants above baked in. */
export function paletteWgsl(): string {
  const terms = VIRIDIS_COEFFICIENTS.map((c, k) => `const AWG_VIRIDIS_${k} = ${vec3(c)};`);
  let horner = `AWG_VIRIDIS_${VIRIDIS_COEFFICIENTS.length - 1}`;
  for (let k = VIRIDIS_COEFFICIENTS.length - 2; k >= 0; k--) horner = `AWG_VIRIDIS_${k} + x * (${horner})`;
  const colours = TABLEAU10.map((hex) => `  ${vec3(hexColor(hex))},`);
  return [
    ...terms,
    '// Viridis at t in [0, 1] (clamped): a degree-6 polynomial fit of the table.',
    'fn awg_viridis(t: f32) -> vec3<f32> {',
    '  let x = clamp(t, 0.0, 1.0);',
    `  return clamp(${horner}, vec3<f32>(0.0), vec3<f32>(1.0));`,
    '}',
    `const AWG_TABLEAU10 = array<vec3<f32>, ${TABLEAU10.length}>(`,
    ...colours,
    ');',
    '// Tableau 10: the colour of category `code`, cycling after ten.',
    `fn awg_category(code: u32) -> vec3<f32> { return AWG_TABLEAU10[code % ${TABLEAU10.length}u]; }`,
  ].join('\n');
}
