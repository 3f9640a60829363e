import { byId, make } from './dom.js';

/** Headlines for the library's error codes: what happened, in words, before its own message. */
const HEADLINES: Record<string, string> = {
  HTTP_STATUS: 'The server refused the request',
  NETWORK: 'The data could not be fetched',
  NOT_ARROW: 'This is not an Arrow IPC file or stream',
  TRUNCATED: 'The data ends too early',
  CORRUPT: 'The data is corrupt',
  UNSUPPORTED_TYPE: 'A column cannot be loaded',
  ABORTED: 'Load cancelled',
  NO_WEBGPU: 'WebGPU is not available in this browser',
  DEVICE_LOST: 'The GPU device was lost',
  GPU_OUT_OF_MEMORY: 'The GPU ran out of memory',
  LIMIT_EXCEEDED: 'The data is larger than the GPU allows',
  WORKER_FAILED: 'The loader’s worker stopped',
};

/** An error's code (the library's stable one, or the class name) and its message. */
export function describeError(error: unknown): { code: string; headline: string; message: string } {
  const e = error as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return { code, headline: HEADLINES[code] ?? 'The load failed', message };
}

/** Shows a neutral line of status under the controls. */
export function showMessage(text: string): void {
  const line = byId('message');
  line.className = 'message';
  line.setAttribute('role', 'status');
  line.textContent = text;
}

/** Shows an error as its headline, its code and the library's message; returns the code. */
export function showError(error: unknown): string {
  const { code, headline, message } = describeError(error);
  const line = byId('message');
  line.className = 'message error';
  line.setAttribute('role', 'alert');
  line.replaceChildren(make('strong', '', `${headline}. `), make('code', '', code), message);
  return code;
}
