import { surface, THEME } from './canvas.js';

/** One line of a sparkline: values at times (ms), in one colour. */
export interface Series {
  times: readonly number[];
  values: readonly number[];
  color: string;
  /** Filled down to zero under the line. */
  fill?: boolean;
  /** Drawn as steps (a value holds until the next sample), for counts such as queue depth. */
  steps?: boolean;
}

/**
 * Draws series over a shared time axis from 0 to the last time and a value axis from 0 to `max` (the
 * largest value when absent); an empty canvas for no samples.
 */
export function drawSparkline(canvas: HTMLCanvasElement, series: readonly Series[], max?: number): void {
  const s = surface(canvas);
  if (!s) return;
  const { ctx, width, height } = s;
  const end = Math.max(1, ...series.map((line) => line.times[line.times.length - 1] ?? 0));
  const top = max ?? Math.max(1e-9, ...series.flatMap((line) => line.values));
  const x = (t: number) => (t / end) * (width - 1);
  const y = (v: number) => height - 1 - (Math.min(v, top) / top) * (height - 3);
  ctx.strokeStyle = THEME.line;
  ctx.beginPath();
  ctx.moveTo(0, height - 0.5);
  ctx.lineTo(width, height - 0.5);
  ctx.stroke();
  for (const line of series) {
    if (line.times.length === 0) continue;
    ctx.beginPath();
    line.times.forEach((t, i) => {
      const v = line.values[i] as number;
      if (i === 0) ctx.moveTo(x(t), y(v));
      else {
        if (line.steps) ctx.lineTo(x(t), y(line.values[i - 1] as number));
        ctx.lineTo(x(t), y(v));
      }
    });
    ctx.strokeStyle = line.color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    if (line.fill) {
      ctx.lineTo(x(line.times[line.times.length - 1] as number), height);
      ctx.lineTo(x(line.times[0] as number), height);
      ctx.closePath();
      ctx.globalAlpha = 0.18;
      ctx.fillStyle = line.color;
      ctx.fill();
      ctx.globalAlpha = 1;
    }
  }
}
