/** A 2D canvas sized to its CSS box at the device's pixel ratio, drawn in CSS pixels. */
export interface Surface {
  ctx: CanvasRenderingContext2D;
  /** CSS pixels. */
  width: number;
  height: number;
}

/**
 * Resizes `canvas`'s backing store to its CSS size × devicePixelRatio (only when that changed, since a
 * resize clears it) and returns a context scaled to CSS pixels, cleared. `null` while it is not laid out.
 */
export function surface(canvas: HTMLCanvasElement): Surface | null {
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return null;
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round(width * ratio);
  const h = Math.round(height * ratio);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(w / width, 0, 0, h / height, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

/** The colours of the page's theme (style.css), for canvas drawing. */
export const THEME = {
  text: '#e6edf3',
  muted: '#8b949e',
  faint: '#5c6673',
  line: '#283040',
  accent: '#58a6ff',
  brush: '#f0b64f',
  good: '#3fb950',
  warn: '#d29922',
  bad: '#f85149',
};
