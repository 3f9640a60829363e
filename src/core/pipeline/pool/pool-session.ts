import { deserializeError, type SerializedError, WorkerFailedError } from '../../errors.js';
import type { FramedMessage } from '../../ipc/framer.js';
import type { PoolWorker } from './decode-pool.js';
import type { FromDecoder, SessionSource, WireBatch, WireMessage, WirePlanOptions } from './protocol.js';

/** A worker's result, and how to hand its buffers back once the batch is uploaded. */
export interface DecodedWire {
  wire: WireBatch;
  /** Gives `wire.scratch` (and a body it read) back to the worker that made them (unless it died). */
  recycle(): void;
}

interface Pending {
  worker: PoolWorker;
  resolve: (batch: DecodedWire) => void;
  reject: (error: unknown) => void;
}

/**
 * One load's share of the pool: dictionary batches go to every worker in source order, each record
 * batch to the least busy one, and each batch's result is a promise that the caller awaits in order.
 */
export class PoolSession {
  readonly #workers: PoolWorker[];
  readonly #pending = new Map<number, Pending>();
  readonly #url: string;
  readonly #giveBack: (worker: PoolWorker) => void;
  #failure: { error: unknown } | null = null;
  #closed = false;
  /** Record batches sent so far: the index of the next one. */
  #submitted = 0;
  /** Record batches through this index are wanted: their results are posted as soon as ready. */
  #wantedThrough = -1;
  /** Told when a worker fails, even with no result awaited (the load may be waiting for bytes). */
  onFailure: ((error: unknown) => void) | null = null;

  constructor(
    readonly id: number,
    workers: PoolWorker[],
    url: string,
    options: WirePlanOptions & SessionSource,
    schema: FramedMessage,
    giveBack: (worker: PoolWorker) => void,
  ) {
    this.#workers = workers;
    this.#url = url;
    this.#giveBack = giveBack;
    for (const worker of workers) {
      worker.lend(this);
      const message = wire(schema, false);
      const { bodyFile, minSourceWords, ...plan } = options;
      const open = {
        ...({ type: 'open', session: id, url, options: plan, schema: message.wire } as const),
        ...{ bodyFile, minSourceWords },
      };
      worker.port.post(open, message.transfer);
    }
  }

  /** Sends a message that every worker's decoder needs (a dictionary batch), copied to each. */
  broadcast(message: FramedMessage): void {
    for (const worker of this.#workers) {
      const { wire: sent, transfer } = wire(message, false);
      worker.port.post(
        { type: 'message', session: this.id, message: sent, batch: null, send: false },
        transfer,
      );
    }
  }

  /**
   * Sends record batch `index` to the least busy worker; its body moves there when the framer joined
   * it into a buffer of its own (`pooled`), else it is copied. Resolves with the worker's result.
   */
  submit(message: FramedMessage, index: number): Promise<DecodedWire> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    const worker = this.#leastBusy();
    this.#submitted = Math.max(this.#submitted, index + 1);
    const { wire: body, transfer } = wire(message, message.pooled === true);
    return new Promise<DecodedWire>((resolve, reject) => {
      this.#pending.set(index, { worker, resolve, reject });
      const send = index <= this.#wantedThrough;
      worker.port.post({ type: 'message', session: this.id, message: body, batch: index, send }, transfer);
    });
  }

  /**
   * The loader takes results in order and wants those through batch `through` now: each is posted as
   * soon as it is ready. The others wait on their workers, so that few results are on this thread at
   * once, whatever the number of workers.
   */
  want(through: number): void {
    if (through <= this.#wantedThrough) return;
    for (const [index, { worker }] of this.#pending) {
      if (index > this.#wantedThrough && index <= through && !worker.dead) {
        worker.port.post({ type: 'want', session: this.id, batch: index }, []);
      }
    }
    this.#wantedThrough = through;
  }

  /** No more messages: the workers finish what they hold. */
  end(): void {
    for (const worker of this.#workers) worker.port.post({ type: 'end', session: this.id }, []);
  }

  /** Stops the workers' work for this load and hands them back; pending results reject with `reason`. */
  close(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectAll(reason);
    for (const worker of this.#workers) {
      if (!worker.dead) worker.port.post({ type: 'close', session: this.id }, []);
      this.#giveBack(worker);
    }
  }

  /** A message from `worker`, one of this session's. */
  received(message: FromDecoder, worker: PoolWorker): void {
    if (message.type === 'batch') {
      const batch = message.batch;
      const pending = this.#pending.get(batch.index);
      this.#pending.delete(batch.index);
      if (!pending) {
        giveBack(worker, batch); // its load failed meanwhile
        return;
      }
      pending.resolve({ wire: batch, recycle: () => giveBack(worker, batch) });
      return;
    }
    const { error, batch } = message;
    this.#workerFailed(
      'code' in error
        ? deserializeError(error as SerializedError)
        : new WorkerFailedError(`A decode worker failed on batch ${batch} of ${this.#url}: ${error.message}`),
    );
  }

  /**
   * A worker died: the load fails, naming the first batch it held, else the first batch still being
   * decoded anywhere (or the next to come), since the load cannot go on past it.
   */
  workerDied(worker: PoolWorker, reason: string): void {
    const pending = [...this.#pending];
    const held = pending.filter(([, p]) => p.worker === worker).map(([index]) => index);
    const waiting = held.length > 0 ? held : pending.map(([index]) => index);
    const batch = waiting.length > 0 ? Math.min(...waiting) : this.#submitted;
    const lost = `${held.length} of its batches lost`;
    this.#workerFailed(
      new WorkerFailedError(`A decode worker died at batch ${batch} of ${this.#url} (${lost}): ${reason}`),
    );
  }

  #workerFailed(error: unknown): void {
    if (this.#failure || this.#closed) return;
    this.#rejectAll(error);
    this.onFailure?.(error);
  }

  #rejectAll(error: unknown): void {
    this.#failure ??= { error };
    for (const pending of this.#pending.values()) pending.reject(this.#failure.error);
    this.#pending.clear();
  }

  #leastBusy(): PoolWorker {
    const load = new Map(this.#workers.map((w) => [w, 0]));
    for (const p of this.#pending.values()) load.set(p.worker, (load.get(p.worker) ?? 0) + 1);
    return this.#workers.reduce((best, w) => ((load.get(w) ?? 0) < (load.get(best) ?? 0) ? w : best));
  }
}

/** Hands what `batch` lent back to `worker` (its scratch buffer, its own body), unless it died. */
export function giveBack(worker: PoolWorker, batch: WireBatch): void {
  const lent = [batch.scratch, batch.ownBody ? (batch.body.buffer as ArrayBuffer) : null];
  const buffers = lent.filter((buffer): buffer is ArrayBuffer => buffer !== null && buffer.byteLength > 0);
  if (buffers.length === 0 || worker.dead) return;
  worker.port.post({ type: 'recycle', buffers }, buffers);
}

/** Largest prefix (metadata) that crosses as plain numbers rather than a buffer of its own. */
const PLAIN_PREFIX_BYTES = 4096;

/**
 * A message as it crosses: views that share a larger buffer (a network chunk or a slab) are copied
 * out, since posting a view copies its whole buffer; `move` moves the body's own buffer instead.
 */
function wire(message: FramedMessage, move: boolean): { wire: WireMessage; transfer: ArrayBuffer[] } {
  const { prefix, header, byteOffset, bodyOffset, endOffset } = message;
  // Copies made with the constructor: a Node `Buffer`'s `slice` is a view, not a copy.
  const body = move ? message.body : new Uint8Array(message.body);
  const copied = prefix.byteLength > PLAIN_PREFIX_BYTES ? new Uint8Array(prefix) : null;
  const sent = copied ?? Array.from(prefix);
  const out = { prefix: sent, body, header, byteOffset, bodyOffset, endOffset };
  if (message.deferred) Object.assign(out, { deferred: true });
  const transfer = [body.buffer, ...(copied ? [copied.buffer] : [])] as ArrayBuffer[];
  return { wire: out, transfer };
}
