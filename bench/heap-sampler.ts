import type { CDPSession, Page } from '@playwright/test';

interface HeapUsage {
  usedSize: number;
  backingStorageSize?: number;
}

/**
 * Samples the JS heap (plus ArrayBuffer backing stores) of the page and of its dedicated workers
 * through the DevTools protocol. Workers are reached with `Target.sendMessageToTarget`, since
 * Playwright gives no CDP session for them.
 */
export class HeapSampler {
  readonly #cdp: CDPSession;
  readonly #workers = new Map<string, string>(); // url → sessionId
  /** Every worker attached and alive: sessionId → url. */
  readonly #all = new Map<string, string>();
  readonly #pending = new Map<number, (result: unknown) => void>();
  #nextId = 0;

  private constructor(cdp: CDPSession) {
    this.#cdp = cdp;
    // Several workers may share a URL (a new loader's beside the benchmark's own): the oldest one alive
    // is the one sampled, so that a short-lived worker never takes its place.
    cdp.on('Target.attachedToTarget', (event) => {
      this.#all.set(event.sessionId, event.targetInfo.url);
      if (!this.#workers.has(event.targetInfo.url)) this.#workers.set(event.targetInfo.url, event.sessionId);
    });
    cdp.on('Target.detachedFromTarget', (event) => {
      this.#all.delete(event.sessionId);
      for (const [url, sessionId] of this.#workers)
        if (sessionId === event.sessionId) this.#workers.delete(url);
    });
    cdp.on('Target.receivedMessageFromTarget', (event) => {
      const message = JSON.parse(event.message) as { id?: number; result?: unknown };
      if (message.id !== undefined) this.#pending.get(message.id)?.(message.result);
    });
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

  /** Attaches to workers started since `attach` (Chromium does not always report them unasked). */
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
  }

  /** Bytes of JS heap and ArrayBuffers in the page, or in the worker whose URL contains `workerUrlPart`. */
  async usage(workerUrlPart: string | null): Promise<number> {
    const result = (await this.#call(workerUrlPart, 'Runtime.getHeapUsage')) as HeapUsage;
    return result.usedSize + (result.backingStorageSize ?? 0);
  }

  /** Runs a full garbage collection in the page or the worker. */
  async collectGarbage(workerUrlPart: string | null): Promise<void> {
    await this.#call(workerUrlPart, 'HeapProfiler.collectGarbage');
  }

  /** Peak `usage` while `work` runs, sampled every `intervalMs`. */
  async peakDuring<T>(
    workerUrlPart: string | null,
    work: Promise<T>,
    intervalMs = 20,
  ): Promise<{ result: T; peak: number }> {
    let peak = await this.usage(workerUrlPart);
    let done = false;
    const sampling = (async () => {
      while (!done) {
        peak = Math.max(peak, await this.usage(workerUrlPart));
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
    try {
      const result = await work;
      peak = Math.max(peak, await this.usage(workerUrlPart));
      return { result, peak };
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

  /** Sends a DevTools command to the worker of session `sessionId`. */
  async callSession(sessionId: string, method: string, params: object = {}): Promise<unknown> {
    const id = ++this.#nextId;
    const reply = new Promise((resolve) => this.#pending.set(id, resolve));
    await this.#cdp.send('Target.sendMessageToTarget', {
      sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    const result = await reply;
    this.#pending.delete(id);
    return result;
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
