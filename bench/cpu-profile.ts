import type { HeapSampler } from './heap-sampler.js';

/** A V8 CPU profile as the DevTools protocol returns it (the fields read here). */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function in a profile. */
export interface ProfileLine {
  name: string;
  ms: number;
}

/** What a profiled run spent its time on, in one thread: its length, idle time, and the busiest functions. */
export interface ProfileSummary {
  thread: string;
  ms: number;
  idleMs: number;
  gcMs: number;
  top: ProfileLine[];
}

/**
 * Profiles the CPU of the page and of every worker whose URL contains one of `workerUrlParts` while
 * `work` runs, sampling every 100 µs, and sums each function's self time.
 */
export async function profileDuring<T>(
  sampler: HeapSampler,
  workerUrlParts: readonly string[],
  work: () => Promise<T>,
  topCount = 30,
): Promise<{ result: T; summaries: ProfileSummary[] }> {
  await sampler.refresh();
  const workers = workerUrlParts.flatMap((part) => sampler.sessions(part).map((id) => ({ id, part })));
  const threads = [
    { name: 'page', send: (method: string, params?: object) => sampler.call(null, method, params) },
    ...workers.map(({ id, part }, i) => ({
      name: `${part} #${i + 1}`,
      send: (method: string, params?: object) => sampler.callSession(id, method, params),
    })),
  ];
  for (const thread of threads) {
    await thread.send('Profiler.enable');
    await thread.send('Profiler.setSamplingInterval', { interval: 100 });
    await thread.send('Profiler.start');
  }
  const result = await work();
  const summaries: ProfileSummary[] = [];
  for (const thread of threads) {
    // A worker that ended during the run (a decode worker let go, say) answers nothing: it is left out.
    const stopped = (await thread.send('Profiler.stop')) as { profile: CpuProfile } | undefined;
    if (!stopped) continue;
    await thread.send('Profiler.disable');
    summaries.push(summarize(stopped.profile, thread.name, topCount));
  }
  return { result, summaries };
}

function summarize(profile: CpuProfile, thread: string, topCount: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const file = frame.url.split('/').pop()?.split('?')[0] ?? '';
    const name = `${frame.functionName || '(anonymous)'} ${file}${file ? `:${frame.lineNumber + 1}` : ''}`;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const of = (prefix: string) =>
    [...self].filter(([name]) => name.startsWith(prefix)).reduce((n, [, ms]) => n + ms, 0);
  const top = [...self]
    .filter(([name]) => !name.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, topCount)
    .map(([name, ms]) => ({ name, ms }));
  const ms = (profile.endTime - profile.startTime) / 1000;
  return { thread, ms, idleMs: of('(idle)'), gcMs: of('(garbage collector)'), top };
}

/** A profile summary as a Markdown table. */
export function profileMarkdown(title: string, summary: ProfileSummary): string {
  const busy = summary.ms - summary.idleMs;
  const head = `**${title}** — ${summary.thread}: ${summary.ms.toFixed(0)} ms profiled, ${busy.toFixed(0)} busy, ${summary.gcMs.toFixed(0)} in the garbage collector`;
  const rows = summary.top.map((line) => `| ${line.name.replace(/\|/g, '\\|')} | ${line.ms.toFixed(1)} |`);
  return [head, '', '| function (self time) | ms |', '| --- | --- |', ...rows, ''].join('\n');
}
