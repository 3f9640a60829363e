import type { LoadStats } from '../src/index.js';

/** The stage that bounded a load's throughput, and a sentence saying so with the stages' times. */
export interface Limit {
  stage: 'network' | 'decode' | 'GPU';
  text: string;
}

/**
 * What limited a finished load, from its stage times: the worker waiting for bytes most of the time means
 * the network (server, browser, IPC) delivered slower than the worker could take; otherwise the larger of
 * the worker's own work (decoding and encoding columns) and its waits on the GPU.
 */
export function limitOf(stats: LoadStats): Limit {
  const { fetchWaitMs, decodeMs, encodeMs, gpuWaitMs } = stats.stages;
  const total = Math.max(1, stats.msTotal);
  const pct = (ms: number) => `${Math.round((100 * ms) / total)}%`;
  const times = `bytes ${ms(fetchWaitMs)} · decode ${ms(decodeMs)} · encode ${ms(encodeMs)} · GPU ${ms(gpuWaitMs)}`;
  const work = decodeMs + encodeMs;
  if (fetchWaitMs >= work && fetchWaitMs >= gpuWaitMs) {
    return {
      stage: 'network',
      text: `Limited by the network: the worker waited for bytes ${pct(fetchWaitMs)} of the load (${times}).`,
    };
  }
  if (gpuWaitMs > work) {
    return {
      stage: 'GPU',
      text: `Limited by the GPU: uploads waited on it ${pct(gpuWaitMs)} of the load (${times}).`,
    };
  }
  return {
    stage: 'decode',
    text: `Limited by decoding in the worker: ${pct(work)} of the load decoding and encoding (${times}).`,
  };
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}
