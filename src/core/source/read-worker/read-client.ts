import { loadAborted, WorkerFailedError } from '../../errors.js';
import type { ByteSource, OpenSource } from '../byte-source.js';
import { READ_CHUNK_BYTES } from './hosted-read.js';
import type { ReadWorkerPort, SpawnReadWorker } from './protocol.js';
import { RemoteRead } from './remote-read.js';

/**
 * Bytes the read worker reads ahead of a response's consumer: enough to keep the download going through
 * the loader thread's longest stretch of work (tens of milliseconds at GB/s). The lead is held there,
 * not on the loader's thread, whose own read-ahead keeps only a chunk beside such a source.
 */
export const READ_WORKER_AHEAD_BYTES = 32 << 20;

/**
 * Bytes below which the loader thread asks for more: a chunk (`READ_CHUNK_BYTES`), a millisecond or two
 * of work at GB/s, which covers a pull's round trip to a worker that has the bytes ready.
 */
export const LOW_WATER_BYTES = READ_CHUNK_BYTES;

/**
 * Bytes one pull brings (whole chunks): the loader's thread holds at most about these plus the low water.
 * A chunk, as the low water: against 4 MiB each (and 4 MiB chunks), the loader's worker peaked 4 MiB
 * lower in a 256 MiB load of 64 KiB batches on an H100 host, no slower; against 8 MiB, 3-4 MiB lower.
 */
export const PULL_BYTES = READ_CHUNK_BYTES;

/** How a loader reads URLs on a read worker: its `open`, how to start it early, and whether loads use it unless told. */
export interface ReadWorkerSource {
  open: OpenSource;
  start(): void;
  byDefault: boolean;
}

/**
 * Opens URLs on a read worker (started on first use, or by `start`, and kept): its `open` is an
 * `OpenSource` whose body arrives in chunks from that worker. If the worker dies, the reads under way
 * fail with `WORKER_FAILED` and the next `open` starts a new one.
 */
export class ReadWorkerClient {
  readonly #spawn: SpawnReadWorker;
  #port: ReadWorkerPort | null = null;
  readonly #reads = new Map<number, { url: string; read: RemoteRead }>();
  #nextId = 1;

  constructor(spawn: SpawnReadWorker) {
    this.#spawn = spawn;
  }

  /** Starts the worker now, so that a first load does not wait for it. */
  start(): void {
    this.#started();
  }

  /** Reads under way (for tests: none is left once a load ended). */
  get active(): number {
    return this.#reads.size;
  }

  /** Opens `url` on the read worker; aborting `signal` closes the request there. */
  readonly open: OpenSource = async (url, signal, options) => {
    if (signal.aborted) throw loadAborted(url);
    const port = this.#started();
    const id = this.#nextId++;
    const giveBack = (buffer: ArrayBuffer) => {
      if (this.#port === port) port.post({ type: 'recycle', buffers: [buffer] }, [buffer]);
    };
    const pull = (starving: boolean, received: number) => port.post({ type: 'pull', id, starving, received });
    const read = new RemoteRead(pull, LOW_WATER_BYTES, giveBack);
    this.#reads.set(id, { url, read });
    const close = () => {
      if (this.#reads.delete(id)) port.post({ type: 'cancel', id });
      read.cancel(loadAborted(url));
    };
    signal.addEventListener('abort', close, { once: true });
    const { timeoutMs, request } = options;
    const limits = { maxBytes: READ_WORKER_AHEAD_BYTES, pullBytes: PULL_BYTES };
    port.post({ type: 'open', id, url, ...limits, timeoutMs, request });
    const bytesTotal = await read.opened;
    const body = read.body();
    return { body, bytesTotal, readsAhead: true } satisfies ByteSource;
  };

  /** Ends the worker; reads under way fail with `WORKER_FAILED`. */
  terminate(): void {
    this.#port?.terminate();
    this.#failAll('it was terminated');
  }

  #started(): ReadWorkerPort {
    if (this.#port) return this.#port;
    const port = this.#spawn();
    port.onMessage = (message) => {
      const entry = this.#reads.get(message.id);
      if (!entry) return;
      entry.read.receive(message);
      if (entry.read.settled) this.#reads.delete(message.id);
    };
    port.onFailure = (reason) => {
      if (this.#port === port) this.#failAll(reason);
    };
    this.#port = port;
    return port;
  }

  /** Fails every read under way (the worker died) and forgets the worker. */
  #failAll(reason: string): void {
    this.#port = null;
    const reads = [...this.#reads.values()];
    this.#reads.clear();
    for (const { url, read } of reads) {
      read.fail(new WorkerFailedError(`The read worker failed while reading ${url}: ${reason}`));
    }
  }
}
