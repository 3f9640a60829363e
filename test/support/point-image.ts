import type { Pixels } from './render-target.js';

/** A square the renderer must draw: its centre in device pixels (y down) and its colour as RGBA bytes. */
export interface ExpectedPoint {
  x: number;
  y: number;
  rgba: readonly [number, number, number, number];
  /** Its side in device pixels, when not the image's. */
  side?: number;
}

/** How far a pixel centre must be inside or outside every square to be checked (rasterisation's edge rules aside). */
const MARGIN = 0.25;

/** `value` on a `[lo, hi]` domain mapped to `[0, pixels]`, in f64 (bigints subtracted exactly first). */
export function toPixel(value: number | bigint, domain: readonly [number, number], pixels: number): number {
  const [lo, hi] = domain;
  const offset =
    typeof value === 'bigint' ? Number(value - BigInt(Math.floor(lo))) - (lo - Math.floor(lo)) : value - lo;
  return (offset / (hi - lo)) * pixels;
}

/** The centre of a point at (x, y) of a domain, on a canvas of `width` × `height` device pixels. */
export function pointCentre(
  x: number | bigint,
  y: number | bigint,
  domain: { x: readonly [number, number]; y: readonly [number, number] },
  width: number,
  height: number,
): { x: number; y: number } {
  return { x: toPixel(x, domain.x, width), y: height - toPixel(y, domain.y, height) };
}

/**
 * Every pixel that differs from the image the points must make, computed on the CPU: a pixel whose
 * centre lies inside a `side`-pixel square (by `MARGIN`) has the colour of the last such point, one
 * outside them all has `background`; pixels on an edge are not checked. Colours may differ by `tolerance`
 * per channel. Returns at most `limit` descriptions, and the count of pixels checked.
 */
export function imageDifferences(
  image: Pixels,
  points: readonly ExpectedPoint[],
  side: number,
  background: readonly [number, number, number, number],
  tolerance: number,
  limit = 10,
): { differences: string[]; inside: number; outside: number } {
  const differences: string[] = [];
  let inside = 0;
  let outside = 0;
  const near = pointsNearPixels(points, side, image.width, image.height);
  for (let py = 0; py < image.height; py++) {
    for (let px = 0; px < image.width; px++) {
      const cx = px + 0.5;
      const cy = py + 0.5;
      // In drawing order: a later point covers an earlier one; on its edge, whether it does is unknown.
      let want: readonly number[] | null = background;
      for (const k of near[py * image.width + px] as number[]) {
        const p = points[k] as ExpectedPoint;
        const half = (p.side ?? side) / 2;
        const dx = Math.abs(cx - p.x);
        const dy = Math.abs(cy - p.y);
        if (dx < half - MARGIN && dy < half - MARGIN) want = p.rgba;
        else if (dx < half + MARGIN && dy < half + MARGIN) want = null;
      }
      if (want === null) continue;
      if (want === background) outside++;
      else inside++;
      const at = (py * image.width + px) * 4;
      const got = Array.from(image.data.subarray(at, at + 4));
      if (
        got.some((v, i) => Math.abs(v - (want as number[])[i]!) > tolerance) &&
        differences.length < limit
      ) {
        differences.push(`pixel (${px}, ${py}): ${got.join(',')}, expected ${want.join(',')}`);
      }
    }
  }
  return { differences, inside, outside };
}

/**
 * For each pixel, the indices (in drawing order) of the points whose square, widened by `MARGIN`, may
 * cover its centre: each pixel then looks at those only, so that thousands of points stay cheap.
 */
function pointsNearPixels(
  points: readonly ExpectedPoint[],
  side: number,
  width: number,
  height: number,
): number[][] {
  const near: number[][] = Array.from({ length: width * height }, () => []);
  for (const [k, p] of points.entries()) {
    const reach = (p.side ?? side) / 2 + MARGIN;
    const [x0, x1] = [
      Math.max(0, Math.floor(p.x - reach - 0.5)),
      Math.min(width - 1, Math.ceil(p.x + reach)),
    ];
    const [y0, y1] = [
      Math.max(0, Math.floor(p.y - reach - 0.5)),
      Math.min(height - 1, Math.ceil(p.y + reach)),
    ];
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) (near[py * width + px] as number[]).push(k);
    }
  }
  return near;
}

/** An sRGB colour in [0, 1] with straight alpha as the RGBA8 bytes of its premultiplied form. */
export function premultipliedBytes(rgb: readonly number[], alpha = 1): [number, number, number, number] {
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  return [byte(rgb[0]! * alpha), byte(rgb[1]! * alpha), byte(rgb[2]! * alpha), byte(alpha)];
}

/** `top` (straight alpha) over an opaque `bottom`, as RGBA8 bytes. */
export function overBytes(
  top: readonly number[],
  alpha: number,
  bottom: readonly number[],
): [number, number, number, number] {
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  const c = (i: number) => byte(top[i]! * alpha + bottom[i]! * (1 - alpha));
  return [c(0), c(1), c(2), 255];
}
