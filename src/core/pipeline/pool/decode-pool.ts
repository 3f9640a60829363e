import type { FramedMessage } from '../../ipc/framer.js';
import { giveBack, PoolSession } from './pool-session.js';
import type {
  DecodeWorkerPort,
  FromDecoder,
  SessionSource,
  SpawnDecodeWorker,
  WirePlanOptions,
} from './protocol.js';

/** A decode worker of the pool: its port, the session it serves, and whether it died. */
export class PoolWorker {
  #session: PoolSession | null = null;
  dead = false;

  constructor(readonly port: DecodeWorkerPort) {
    port.onMessage = (message: FromDecoder) => {
      if (message.session === this.#session?.id) this.#session.received(message, this);
      else if (message.type === 'batch') giveBack(this, message.batch); // a late result of a closed load
    };
    port.onFailure = (reason) => {
      this.dead = true;
      this.#session?.workerDied(this, reason);
    };
  }

  /** Serves `session` until it hands the worker back. */
  lend(session: PoolSession | null): void {
    this.#session = session;
  }
}

/**
 * Decode workers kept across a loader's loads: a load takes the workers it asks for (started when
 * none is idle) and hands them back when it ends; a worker that died is terminated, never reused.
 */
export class DecodePool {
  readonly #spawn: SpawnDecodeWorker;
  readonly #idle: PoolWorker[] = [];
  #nextSession = 1;
  #closed = false;

  /** `readsBodies`: the workers `spawn` starts read deferred bodies themselves (see `DecodeWorkers`). */
  constructor(
    spawn: SpawnDecodeWorker,
    readonly readsBodies = false,
  ) {
    this.#spawn = spawn;
  }

  /** Workers idle now (for tests: after a load, every worker is back or gone). */
  get idle(): number {
    return this.#idle.length;
  }

  /** Starts decoding one load on `count` workers, from its schema message. */
  open(
    count: number,
    url: string,
    options: WirePlanOptions & SessionSource,
    schema: FramedMessage,
  ): PoolSession {
    const workers: PoolWorker[] = [];
    while (workers.length < count) {
      const idle = this.#idle.pop();
      if (idle?.dead)
        idle.port.terminate(); // died while idle
      else workers.push(idle ?? new PoolWorker(this.#spawn()));
    }
    const id = this.#nextSession++;
    return new PoolSession(id, workers, url, options, schema, (w) => this.#giveBack(w));
  }

  /** Terminates every idle worker; workers lent to loads are terminated as those end. */
  terminate(): void {
    this.#closed = true;
    for (const worker of this.#idle.splice(0)) worker.port.terminate();
  }

  #giveBack(worker: PoolWorker): void {
    worker.lend(null);
    if (worker.dead || this.#closed) worker.port.terminate();
    else this.#idle.push(worker);
  }
}
