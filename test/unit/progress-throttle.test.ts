import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgressThrottle, type Schedule } from '../../src/core/pipeline/progress-throttle.js';

/** A clock and a timer queue that only move when the test says so. */
class FakeTime {
  now = 0;
  #timers: { at: number; run: () => void; live: boolean }[] = [];

  readonly schedule: Schedule = (run, ms) => {
    const timer = { at: this.now + ms, run, live: true };
    this.#timers.push(timer);
    return () => {
      timer.live = false;
    };
  };

  /** Moves the clock to `t`, running the timers due on the way, in order. */
  advance(t: number): void {
    for (;;) {
      const due = this.#timers.filter((x) => x.live && x.at <= t).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.now = due.at;
      due.run();
    }
    this.now = t;
  }
}

const INTERVAL = 50;

/** Ticks at the given times (each reporting the tick count so far), then the clock runs `tailMs` more. */
function run(times: number[], tailMs: number, stopAt: number | null) {
  const time = new FakeTime();
  const reports: { at: number; ticks: number }[] = [];
  const throttle = new ProgressThrottle<number>(
    (ticks) => reports.push({ at: time.now, ticks }),
    INTERVAL,
    time.schedule,
  );
  let ticks = 0;
  let stopped = false;
  const stopBy = (t: number) => {
    if (stopAt === null || stopped || stopAt > t) return;
    time.advance(Math.max(time.now, stopAt));
    throttle.stop();
    stopped = true;
  };
  for (const t of times) {
    stopBy(t);
    time.advance(t);
    ticks++;
    throttle.tick(time.now, () => ticks);
  }
  const end = (times.at(-1) ?? 0) + tailMs;
  stopBy(end);
  time.advance(end);
  return { reports, ticks };
}

const tickTimes = fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }).map((gaps) => {
  let t = 0;
  return gaps.map((g) => {
    t += g;
    return t;
  });
});

describe('ProgressThrottle', () => {
  it('reports at most once per interval, and the last tick is reported within an interval of it', () => {
    fc.assert(
      fc.property(tickTimes, (times) => {
        const { reports, ticks } = run(times, INTERVAL, null);
        for (let i = 1; i < reports.length; i++) {
          expect(
            (reports[i] as { at: number }).at - (reports[i - 1] as { at: number }).at,
          ).toBeGreaterThanOrEqual(INTERVAL);
        }
        if (ticks === 0) {
          expect(reports).toEqual([]);
          return;
        }
        const last = reports.at(-1) as { at: number; ticks: number };
        expect(last.ticks).toBe(ticks); // the state at the end, not an older one
        expect(last.at).toBeLessThanOrEqual((times.at(-1) as number) + INTERVAL);
      }),
    );
  });

  it('every tick is followed by a report within an interval, showing that tick or a later one', () => {
    fc.assert(
      fc.property(tickTimes, (times) => {
        const { reports } = run(times, INTERVAL, null);
        times.forEach((t, i) => {
          const after = reports.find((r) => r.at >= t && r.ticks >= i + 1);
          expect(after, `tick ${i} at ${t} ms`).toBeDefined();
          expect((after as { at: number }).at - t).toBeLessThanOrEqual(INTERVAL);
        });
      }),
    );
  });

  it('reports nothing once stopped, not even a report that was waiting', () => {
    fc.assert(
      fc.property(tickTimes, fc.integer({ min: 0, max: 2000 }), (times, stopAt) => {
        const { reports } = run(times, 10 * INTERVAL, stopAt);
        for (const r of reports) expect(r.at).toBeLessThanOrEqual(stopAt);
      }),
    );
  });

  it('final reports at once, whatever was waiting, and nothing follows it', () => {
    const time = new FakeTime();
    const reports: string[] = [];
    const throttle = new ProgressThrottle<string>((v) => reports.push(v), INTERVAL, time.schedule);
    throttle.tick(0, () => 'first');
    time.advance(10);
    throttle.tick(10, () => 'waiting');
    throttle.final(20, 'final');
    time.advance(500);
    throttle.tick(500, () => 'after');
    expect(reports).toEqual(['first', 'final']);
  });
});
