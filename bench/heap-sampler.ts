import type { CDPSession, Page } from '@playwright/test';

interface HeapUsage {
  usedSize: number;
  backingStorageSize?: number;
}

/** Longest wait for a worker's answer to a command. */
const CALL_TIMEOUT_MS = 10_000;

/** A message a worker's session sends: a reply (`id`) or an event (`method`). */
interface SessionMessage {
  id?: number;
  result?: unknown;
  method?: string;
  params?: { sessionId: string; message?: string; targetInfo?: { url: string } };
}

/**
 * Samples the JS heap (plus ArrayBuffer backing stores) of the page and of its dedicated workers
 * through the DevTools protocol. Workers are reached with `Target.sendMessageToTarget`, since
 * Playwright gives no CDP session for them; workers that a worker started (the loader's read and decode
 * workers) are attached from their parent's session, and reached through it.
 */
export class HeapSampler {
  readonly #cdp: CDPSession;
  readonly #workers = new Map<string, string>(); // url → sessionId
  /** Every worker attached and alive: sessionId → url. */
  readonly #all = new Map<string, string>();
  /** Calls to workers' sessions not answered yet: their session, and what settles them. */
  readonly #pending = new Map<number, { sessionId: string; settle: (result: unknown) => void }>();
  /** The parent session of each worker started by a worker. */
  readonly #parents = new Map<string, string>();
  /** `Target.setAutoAttach` calls to workers' sessions not yet answered. */
  readonly #asking = new Set<Promise<unknown>>();
  #nextId = 0;

  private constructor(cdp: CDPSession) {
    this.#cdp = cdp;
    // Several workers may share a URL (a new loader's beside the benchmark's own): the oldest one alive
    // is the one sampled, so that a short-lived worker never takes its place.
    cdp.on('Target.attachedToTarget', (event) => {
      this.#all.set(event.sessionId, event.targetInfo.url);
      if (!this.#workers.has(event.targetInfo.url)) this.#workers.set(event.targetInfo.url, event.sessionId);
      this.#attachChildren(event.sessionId);
    });
    cdp.on('Target.detachedFromTarget', (event) => {
      this.#gone(event.sessionId);
      this.#all.delete(event.sessionId);
      for (const [url, sessionId] of this.#workers)
        if (sessionId === event.sessionId) this.#workers.delete(url);
    });
    cdp.on('Target.receivedMessageFromTarget', (event) => this.#received(event.sessionId, event.message));
  }

  /** A message from session `from`: a reply, or (from a worker's session) its own workers' news. */
  #received(from: string, text: string): void {
    const message = JSON.parse(text) as SessionMessage;
    if (message.id !== undefined) this.#pending.get(message.id)?.settle(message.result);
    const params = message.params;
    if (!params) return;
    if (message.method === 'Target.receivedMessageFromTarget' && params.message) {
      this.#received(params.sessionId, params.message);
    } else if (message.method === 'Target.attachedToTarget' && params.targetInfo) {
      this.#all.set(params.sessionId, params.targetInfo.url);
      this.#parents.set(params.sessionId, from);
    } else if (message.method === 'Target.detachedFromTarget') {
      this.#gone(params.sessionId);
      this.#all.delete(params.sessionId);
      this.#parents.delete(params.sessionId);
    }
  }

  /** A worker went away: its calls not answered yet never will be; they settle with `undefined`. */
  #gone(sessionId: string): void {
    for (const call of this.#pending.values()) if (call.sessionId === sessionId) call.settle(undefined);
  }

  /** Has the worker of `sessionId` report the workers it starts. */
  #attachChildren(sessionId: string): void {
    const params = { autoAttach: true, waitForDebuggerOnStart: false, flatten: false };
    const asked = this.callSession(sessionId, 'Target.setAutoAttach', params).catch(() => {});
    this.#asking.add(asked);
    void asked.finally(() => this.#asking.delete(asked));
  }

  /** Attaches to `page` and to every worker it starts from now on. */
  static async attach(page: Page): Promise<HeapSampler> {
    const cdp = await page.context().newCDPSession(page);
    const sampler = new HeapSampler(cdp);
    await cdp.send('Target.setAutoAttach', {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: false,
    });
    return sampler;
  }

  /**
   * Attaches to workers started since `attach` (Chromium does not always report them unasked), and to
   * the workers they started: those arrive once their parents answered, a moment after.
   */
  async refresh(): Promise<void> {
    await this.#cdp.send('Target.setAutoAttach', {
      autoAttach: false,
      waitForDebuggerOnStart: false,
      flatten: false,
    });
    await this.#cdp.send('Target.setAutoAttach', {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: false,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(this.#asking);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Bytes of JS heap and ArrayBuffers in the page, or in the worker whose URL contains `workerUrlPart`. */
  async usage(workerUrlPart: string | null): Promise<number> {
    const { js, buffers } = await this.usageParts(workerUrlPart);
    return js + buffers;
  }

  /** `usage` in its two parts: the JS heap, and the ArrayBuffers' memory beside it. */
  async usageParts(workerUrlPart: string | null): Promise<{ js: number; buffers: number }> {
    const result = (await this.#call(workerUrlPart, 'Runtime.getHeapUsage')) as HeapUsage | undefined;
    if (result === undefined) return { js: 0, buffers: 0 }; // the worker went away meanwhile
    return { js: result.usedSize, buffers: result.backingStorageSize ?? 0 };
  }

  /** Runs a full garbage collection in the page or the worker. */
  async collectGarbage(workerUrlPart: string | null): Promise<void> {
    await this.#call(workerUrlPart, 'HeapProfiler.collectGarbage');
  }

  /**
   * Peak `usage` while `work` runs, sampled every `intervalMs`, the ArrayBuffers' part of it, and how
   * many samples were answered while it ran. A busy worker answers between its tasks only, so a short
   * load is sampled a few times at best (every 20 ms missed the peak of a 90 ms load), and a peak of
   * fewer samples is likelier to fall short of the true one.
   */
  async peakDuring<T>(
    workerUrlPart: string | null,
    work: Promise<T>,
    intervalMs = 5,
  ): Promise<{ result: T; peak: number; peakBuffers: number; samples: number }> {
    let peak = { js: 0, buffers: 0 };
    let samples = 0;
    const sample = async () => {
      // A sample that fails (the worker's session closing) only misses that sample.
      const parts = await this.usageParts(workerUrlPart).catch(() => ({ js: 0, buffers: 0 }));
      samples++;
      if (parts.js + parts.buffers > peak.js + peak.buffers) peak = parts;
    };
    await sample();
    let done = false;
    const sampling = (async () => {
      while (!done) {
        await sample();
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
    try {
      const result = await work;
      // Answered while the work ran: the first sample and this last one are taken outside it.
      const during = Math.max(0, samples - 1);
      await sample();
      return { result, peak: peak.js + peak.buffers, peakBuffers: peak.buffers, samples: during };
    } finally {
      done = true;
      await sampling;
    }
  }

  /** Sends a DevTools command to the page, or to the worker whose URL contains `workerUrlPart`. */
  call(workerUrlPart: string | null, method: string, params: object = {}): Promise<unknown> {
    return this.#call(workerUrlPart, method, params);
  }

  /** The sessions of every live worker whose URL contains `workerUrlPart`, oldest first. */
  sessions(workerUrlPart: string): string[] {
    return [...this.#all].filter(([, url]) => url.includes(workerUrlPart)).map(([id]) => id);
  }

  /**
   * Sends a DevTools command to the worker of session `sessionId` (through its parent's, if it has one);
   * its result, or `undefined` if the worker went away first (or gave no answer in `CALL_TIMEOUT_MS`:
   * a worker closed between the command and its answer may not be reported).
   */
  async callSession(sessionId: string, method: string, params: object = {}): Promise<unknown> {
    const id = ++this.#nextId;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = new Promise((resolve) => {
      this.#pending.set(id, { sessionId, settle: resolve });
      timer = setTimeout(() => resolve(undefined), CALL_TIMEOUT_MS);
    });
    try {
      await this.#post(sessionId, JSON.stringify({ id, method, params }));
      return await reply;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  /** Sends `message` to session `sessionId`, wrapped once for each worker between it and the page. */
  async #post(sessionId: string, message: string): Promise<void> {
    const parent = this.#parents.get(sessionId);
    if (parent === undefined) {
      await this.#cdp.send('Target.sendMessageToTarget', { sessionId, message });
      return;
    }
    const wrapped = {
      id: ++this.#nextId,
      method: 'Target.sendMessageToTarget',
      params: { sessionId, message },
    };
    await this.#post(parent, JSON.stringify(wrapped));
  }

  async #call(workerUrlPart: string | null, method: string, params: object = {}): Promise<unknown> {
    if (workerUrlPart === null) return this.#cdp.send(method as 'Runtime.getHeapUsage', params as never);
    const find = () => [...this.#workers.entries()].find(([url]) => url.includes(workerUrlPart))?.[1];
    // Attach events can trail the command that caused them.
    for (let i = 0; i < 100 && !find(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const sessionId = find();
    if (!sessionId)
      throw new Error(`no worker whose URL contains ${workerUrlPart}; have ${[...this.#workers.keys()]}`);
    return this.callSession(sessionId, method, params);
  }
}
