/** How the guard asks a worker whether it is still there, and how patiently it waits. */
export interface LivenessOptions {
  /** Asks the worker for an answer; settling either way counts as one (a rejection still came back). */
  ping: () => Promise<unknown>;
  /** Pause between an answer and the next ping. Default `PING_INTERVAL_MS`. */
  intervalMs?: number;
  /** How long a ping may go unanswered before the worker is declared gone. Default `PING_TIMEOUT_MS`. */
  timeoutMs?: number;
  /** Monotonic clock in milliseconds. Default `performance.now`. */
  now?: () => number;
}

// A worker can vanish without an `error` event (`self.close()`, killed for memory, terminated by the
// browser), and its pending calls must then fail within 2 s. The worst case from its death to the verdict
// is one interval (it died just after an answer, so the next ping waits) plus the timeout: 1.5 s, leaving
// 0.5 s for timers that run late on a busy page. A worker busy in one synchronous step (decoding or
// decompressing a batch) answers late but answers; it is declared dead only if that step outlasts the
// timeout, 1.25 s: far above the milliseconds to tens of milliseconds that a batch of a few MiB takes,
// though one batch of hundreds of MiB to decompress could outlast it (the worker is then terminated as
// stuck). A longer timeout would spare such steps but eat the margin that keeps the 2 s promise.
// A ping is one tiny message every 250 ms, and only while calls are pending.

/** Default pause between an answer and the next ping. */
export const PING_INTERVAL_MS = 250;
/** Default time a ping may go unanswered before the worker is declared gone. */
export const PING_TIMEOUT_MS = 1250;

/** Pings the worker while started; calls `onSilent` (once, then stops) when a ping goes unanswered. */
export class Liveness {
  readonly #ping: () => Promise<unknown>;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #onSilent: (silentMs: number) => void;
  /** Bumped by `start` and `stop`, so that answers to pings of an earlier run schedule nothing. */
  #run = 0;
  #running = false;
  /** The next ping or the deadline of the current one; never both. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The worker answered once, so its script has loaded: only then does silence count. */
  #answered = false;

  constructor(options: LivenessOptions, onSilent: (silentMs: number) => void) {
    this.#ping = options.ping;
    this.#intervalMs = options.intervalMs ?? PING_INTERVAL_MS;
    this.#timeoutMs = options.timeoutMs ?? PING_TIMEOUT_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#onSilent = onSilent;
  }

  /** Whether started (and not stopped since, nor silent). */
  get running(): boolean {
    return this.#running;
  }

  /** Starts pinging (no-op when already started). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#round(++this.#run);
  }

  /** Stops pinging and clears every timer. */
  stop(): void {
    this.#running = false;
    this.#run++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #round(run: number): void {
    const sentAt = this.#now();
    const answered = () => {
      this.#answered = true;
      if (run !== this.#run) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#round(run), this.#intervalMs);
    };
    // A rejection came back from the worker, so it counts as an answer. A synchronous throw did not, but
    // it is the pinger's fault, not silence of the worker: counted too, never a false "dead".
    new Promise((settle) => settle(this.#ping())).then(answered, answered);
    // Before the first answer the worker may still be fetching and evaluating its script (seconds on a
    // cold cache), which is not death; a script that fails to load raises `error`.
    if (this.#answered) this.#armDeadline(sentAt, this.#timeoutMs);
  }

  #armDeadline(sentAt: number, delayMs: number): void {
    const due = this.#now() + delayMs;
    this.#timer = setTimeout(() => {
      // A deadline that fires late means this thread was blocked, and the answer may be queued behind
      // the timer: give it one more interval rather than blame the worker for our own stall.
      if (this.#now() - due > this.#intervalMs) return this.#armDeadline(sentAt, this.#intervalMs);
      this.stop();
      this.#onSilent(this.#now() - sentAt);
    }, delayMs);
  }
}
