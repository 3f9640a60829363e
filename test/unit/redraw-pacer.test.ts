import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GROWTH_FRAME_FACTOR, GROWTH_FRAME_MS, RedrawPacer } from '../../src/core/gpu/render/redraw-pacer.js';

// The pacing of a view's redraws as its table grows, on a fake clock: requests coalesce, one redraw
// runs at a time, the next waits for the last frame's time to be paid for, and a stopped pacer draws
// nothing more.

/** A pacer whose redraws are counted and finish when the test says. */
function pacer(frameMs = 0) {
  const runs: Array<() => void> = [];
  const pace = new RedrawPacer(
    () => new Promise<void>((resolve) => runs.push(resolve)),
    () => frameMs,
  );
  return { pace, runs };
}

describe('RedrawPacer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('coalesces requests into one redraw, no sooner than a display frame', async () => {
    const { pace, runs } = pacer();
    for (let i = 0; i < 5; i++) pace.request();
    await vi.advanceTimersByTimeAsync(GROWTH_FRAME_MS - 1);
    expect(runs.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.length).toBe(1);
    runs[0]?.();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs.length, 'no request since: no redraw').toBe(1);
  });

  it('runs one redraw at a time: requests during one are served once after it', async () => {
    const { pace, runs } = pacer();
    pace.request();
    await vi.advanceTimersByTimeAsync(GROWTH_FRAME_MS);
    expect(runs.length).toBe(1);
    pace.request();
    pace.request();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs.length, 'the first still running').toBe(1);
    runs[0]?.();
    await vi.advanceTimersByTimeAsync(GROWTH_FRAME_MS);
    expect(runs.length).toBe(2);
    runs[1]?.();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs.length).toBe(2);
  });

  it('waits GROWTH_FRAME_FACTOR times the last frame after the last redraw ended', async () => {
    const frameMs = 100;
    const { pace, runs } = pacer(frameMs);
    pace.request();
    await vi.advanceTimersByTimeAsync(GROWTH_FRAME_FACTOR * frameMs);
    expect(runs.length).toBe(1);
    runs[0]?.();
    await vi.advanceTimersByTimeAsync(0);
    pace.request();
    await vi.advanceTimersByTimeAsync(GROWTH_FRAME_FACTOR * frameMs - 1);
    expect(runs.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.length).toBe(2);
  });

  it('draws nothing once stopped, and a failed redraw does not stop the next', async () => {
    let calls = 0;
    const failing = new RedrawPacer(
      async () => {
        calls++;
        throw new Error('the device was lost');
      },
      () => 0,
    );
    failing.request();
    await vi.advanceTimersByTimeAsync(GROWTH_FRAME_MS);
    failing.request();
    await vi.advanceTimersByTimeAsync(GROWTH_FRAME_MS);
    expect(calls).toBe(2);
    failing.request();
    failing.stop();
    failing.request();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
  });
});
