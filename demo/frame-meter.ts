import { surface, THEME } from './canvas.js';
import { setText } from './dom.js';

/** What the main thread went through during one run: its worst frame and its long tasks. */
export interface FrameSummary {
  worstFrameMs: number;
  longTasks: number;
  longestTaskMs: number;
}

const FRAMES = 150;
const CAP_MS = 100;
/**
 * The strip is redrawn at most this often: every frame is measured, but repainting a canvas each frame
 * makes the compositor work at 60 Hz, which on a CPU-emulated GPU takes cores from the load it watches.
 */
const DRAW_EVERY_MS = 125;

/**
 * Measures the main thread's frames with requestAnimationFrame: a strip of the last frames' durations
 * (a freeze shows as one tall red bar), frames per second, and per run the worst frame and the long
 * tasks (over 50 ms, from the Long Tasks API) — what a load that blocks the page costs its user.
 */
export class FrameMeter {
  private readonly durations = new Float32Array(FRAMES);
  private head = 0;
  private last = performance.now();
  private frameTimes: number[] = [];
  private run: FrameSummary = { worstFrameMs: 0, longTasks: 0, longestTaskMs: 0 };
  private running = false;
  private drawnAt = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {
    if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
      new PerformanceObserver((list) => {
        if (!this.running) return;
        for (const entry of list.getEntries()) {
          this.run.longTasks++;
          this.run.longestTaskMs = Math.max(this.run.longestTaskMs, entry.duration);
        }
      }).observe({ type: 'longtask' });
    }
    requestAnimationFrame((now) => this.frame(now));
    setInterval(() => this.showText(), 500);
  }

  /** Starts counting a run's worst frame and long tasks from now. */
  beginRun(): void {
    this.run = { worstFrameMs: 0, longTasks: 0, longestTaskMs: 0 };
    this.running = true;
  }

  /** Stops counting and returns the run's figures. */
  endRun(): FrameSummary {
    this.running = false;
    return { ...this.run };
  }

  private frame(now: number): void {
    const ms = now - this.last;
    this.last = now;
    this.durations[this.head] = ms;
    this.head = (this.head + 1) % FRAMES;
    this.frameTimes.push(now);
    if (this.running) this.run.worstFrameMs = Math.max(this.run.worstFrameMs, ms);
    if (now - this.drawnAt >= DRAW_EVERY_MS) {
      this.drawnAt = now;
      this.draw();
    }
    requestAnimationFrame((t) => this.frame(t));
  }

  private draw(): void {
    const s = surface(this.canvas);
    if (!s) return;
    const { ctx, width, height } = s;
    const bar = width / FRAMES;
    const y = (ms: number) => height - (Math.min(ms, CAP_MS) / CAP_MS) * height;
    for (let i = 0; i < FRAMES; i++) {
      const ms = this.durations[(this.head + i) % FRAMES] as number;
      if (ms === 0) continue;
      ctx.fillStyle = ms < 25 ? THEME.good : ms < 50 ? THEME.warn : THEME.bad;
      ctx.fillRect(i * bar, y(ms), Math.max(1, bar - 0.5), height - y(ms));
    }
    // The 60 fps budget.
    ctx.fillStyle = THEME.faint;
    ctx.fillRect(0, Math.round(y(1000 / 60)), width, 1);
  }

  private showText(): void {
    const now = performance.now();
    this.frameTimes = this.frameTimes.filter((t) => t > now - 1000);
    setText('fps', String(this.frameTimes.length));
    const { worstFrameMs, longTasks, longestTaskMs } = this.run;
    if (!this.running && worstFrameMs === 0) return;
    const tasks =
      longTasks === 0 ? 'no long task' : `${longTasks} long tasks (${longestTaskMs.toFixed(0)} ms)`;
    setText('jank', `worst frame ${worstFrameMs.toFixed(0)} ms · ${tasks}`);
  }
}
