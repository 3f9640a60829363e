import { byId, make } from './dom.js';

/** One finished, failed or cancelled load, as the runs table lists it. */
export interface Run {
  source: string;
  mode: string;
  /** `4,194,304 rows`, `cancelled`, or an error code. */
  result: string;
  ok: boolean;
  mbps?: number;
  firstMs?: number;
  totalMs?: number;
  worstFrameMs: number;
  longTasks: number;
  limit?: string;
}

const KEEP = 8;

/** Adds a run at the top of the runs table (the last eight are kept), so that paths can be compared. */
export function addRun(run: Run): void {
  const body = byId('runs').querySelector('tbody') as HTMLTableSectionElement;
  const fixed = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(0));
  const row = make('tr');
  const cells: [string, string][] = [
    [run.source, ''],
    [run.mode, ''],
    [run.result, run.ok ? '' : 'bad'],
    [run.mbps === undefined ? '–' : run.mbps >= 10 ? run.mbps.toFixed(0) : run.mbps.toFixed(1), 'num'],
    [fixed(run.firstMs), 'num'],
    [fixed(run.totalMs), 'num'],
    [run.worstFrameMs.toFixed(0), run.worstFrameMs >= 50 ? 'num bad' : 'num'],
    [String(run.longTasks), run.longTasks > 0 ? 'num bad' : 'num'],
    [run.limit ?? '–', ''],
  ];
  for (const [text, className] of cells) row.append(make('td', className, text));
  body.prepend(row);
  while (body.childElementCount > KEEP) body.lastElementChild?.remove();
}
