import { planColumns } from '../../columns/type-plan.js';
import { ArrowGpuError, serializeError } from '../../errors.js';
import { type BatchStream, openBatchStream } from '../../ipc/decode.js';
import type { FramedMessage } from '../../ipc/framer.js';
import { messageSlab } from '../../source/byte-slab.js';
import { BoundedQueue } from '../bounded-queue.js';
import { type EncodedBatch, encodeBatch, type WorkerBody, WorkerDictionaries } from './batch-encoder.js';
import { BodyHoles } from './body-holes.js';
import { DataPacker } from './pack-data.js';
import type { FromDecoder, OpenBodyFile, ToDecoder, WireMessage } from './protocol.js';
import { ScratchBuffers } from './scratch-buffers.js';
import { type BodySource, WorkerBodies } from './worker-bodies.js';

/** Posts a message to the loader thread, moving `transfer`. */
export type PostToLoader = (message: FromDecoder, transfer: ArrayBuffer[]) => void;

/** What a decode worker can do beyond decoding. */
export interface DecoderAbilities {
  /** How it reads deferred bodies (Node); without it, the loader sends every body. */
  openBodyFile?: OpenBodyFile;
}

/**
 * The decode worker's side: serves `ToDecoder` messages, each session (a load) with its own decoder.
 * Returns the handler of incoming messages; the worker entry wires it to its message port.
 */
export function serveDecoder(
  post: PostToLoader,
  abilities: DecoderAbilities = {},
  // Shared by this worker's sessions: a loader's next load reuses the buffers of its last.
  scratch = new ScratchBuffers(),
): (message: ToDecoder) => void {
  const sessions = new Map<number, DecoderSession>();
  return (message) => {
    if (message.type === 'recycle') {
      for (const buffer of message.buffers) scratch.give(buffer);
      return;
    }
    if (message.type === 'open') {
      const end = () => sessions.delete(message.session);
      const bodies = { file: message.bodyFile, open: abilities.openBodyFile ?? null };
      const session = new DecoderSession(message, post, end, scratch, bodies);
      sessions.set(message.session, session);
      return;
    }
    const session = sessions.get(message.session);
    if (!session) return; // ended or failed already: what still arrives is dropped
    if (message.type === 'message') session.push(message.message, message.batch, message.send);
    else if (message.type === 'want') session.want(message.batch);
    else if (message.type === 'end') session.end();
    else {
      session.stop();
      sessions.delete(message.session);
    }
  };
}

/** A message prefix as it crossed (see `WireMessage`), as bytes. */
function prefixBytes(prefix: Uint8Array | number[]): Uint8Array {
  if (prefix instanceof Uint8Array) return prefix;
  const bytes = messageSlab.take(prefix.length);
  bytes.set(prefix);
  return bytes;
}

/** One load's decoding on this worker: its schema, the dictionaries so far, and its share of batches. */
class DecoderSession {
  readonly #queue = new BoundedQueue<FramedMessage>(Number.MAX_SAFE_INTEGER);
  readonly #indices = new WeakMap<FramedMessage, number>();
  /** Bodies of the record batches read or received and not yet posted back, by index. */
  readonly #bodies = new Map<number, WorkerBody>();
  /** Record batches received and not yet posted back, oldest first. */
  readonly #pending: number[] = [];
  readonly #packer = new DataPacker();
  /** This load's text columns' dictionaries on this worker. */
  readonly #dictionaries = new WorkerDictionaries();
  readonly #session: number;
  readonly #reader: WorkerBodies;
  /** See `minSourceWords` in the `open` message. */
  readonly #minSourceWords: number | null;
  readonly #holes = new BodyHoles();
  /** Record batches the loader wants posted as soon as they are ready. */
  readonly #wanted = new Set<number>();
  /**
   * Results ready and not yet wanted, held here rather than on the loader's thread: each result there
   * is a young ArrayBuffer the size of the batch, and when they swing by more than 64 MiB V8 starts a
   * full collection there, again and again.
   */
  readonly #ready = new Map<number, EncodedBatch>();
  #stopped = false;
  /** Every batch is decoded: the session ends once the held results are taken. */
  #decoded = false;

  constructor(
    open: Extract<ToDecoder, { type: 'open' }>,
    readonly post: PostToLoader,
    readonly ended: () => void,
    readonly scratch: ScratchBuffers,
    bodies: BodySource,
  ) {
    this.#session = open.session;
    this.#reader = new WorkerBodies(open.url, bodies, scratch);
    this.#minSourceWords = open.minSourceWords;
    this.push(open.schema, null, false);
    void this.#run(open.url, open.options).finally(() => {
      this.#reader.close();
      this.#decoded = true;
      this.#endOnceTaken();
    });
  }

  push(message: WireMessage, batch: number | null, send: boolean): void {
    if (batch !== null && send) this.#wanted.add(batch);
    const framed: FramedMessage = { ...message, prefix: prefixBytes(message.prefix) };
    if (batch !== null) {
      this.#indices.set(framed, batch);
      this.#pending.push(batch);
    }
    void this.#queue.enqueue(framed).catch(() => {}); // unbounded: the loader bounds what is in flight
  }

  end(): void {
    this.#queue.close();
  }

  /** The loader is about to take record batch `batch`: posts its result now if held, else once ready. */
  want(batch: number): void {
    const ready = this.#ready.get(batch);
    if (!ready) {
      this.#wanted.add(batch);
      return;
    }
    this.#ready.delete(batch);
    this.#postBatch(ready);
    this.#endOnceTaken();
  }

  #deliver(encoded: EncodedBatch): void {
    if (this.#wanted.delete(encoded.batch.index)) this.#postBatch(encoded);
    else this.#ready.set(encoded.batch.index, encoded);
  }

  #postBatch({ batch, transfer }: EncodedBatch): void {
    this.post({ type: 'batch', session: this.#session, batch }, transfer);
  }

  #endOnceTaken(): void {
    if (this.#decoded && this.#ready.size === 0) this.ended();
  }

  /** The load was cancelled or failed elsewhere: decode nothing more, report nothing. */
  stop(): void {
    this.#stopped = true;
    this.#queue.abort(new Error('decode session stopped'));
    // Held results go back to this worker's buffers; a body the loader sent is dropped with them.
    for (const { batch } of this.#ready.values()) {
      if (batch.scratch) this.scratch.give(batch.scratch);
      if (batch.ownBody) this.scratch.give(batch.body.buffer as ArrayBuffer);
    }
    this.#ready.clear();
  }

  /** The messages as the decoder takes them: a deferred body is read here, as its turn comes. */
  async *#withBodies(): AsyncGenerator<FramedMessage> {
    for await (const message of this.#queue) {
      const index = this.#indices.get(message);
      if (index !== undefined) {
        const body = message.deferred ? this.#readBody(message) : { bytes: message.body, own: false };
        message.body = body.bytes;
        this.#bodies.set(index, body);
      }
      yield message;
    }
  }

  /**
   * A deferred body, read here; words already in GPU form may be left in the source (see `WorkerBody`),
   * and the regions that held them in the last batch of its layout are not read (see `BodyHoles`).
   */
  #readBody(message: FramedMessage): WorkerBody {
    const minBytes = this.#minSourceWords;
    if (minBytes === null) return this.#reader.read(message);
    const shape = message.header.batch;
    const holes = this.#holes.holesFor(shape);
    const body = this.#reader.read(message, holes);
    return { ...body, leaveInSource: { position: message.bodyOffset, minBytes, holes, shape } };
  }

  /** Reads the holes of `body` whose words its batch did not leave in the source, before it is sent. */
  #fillMissedHoles(body: WorkerBody, encoded: EncodedBatch): void {
    const leave = body.leaveInSource;
    if (!leave) return;
    const leftAt = new Set<number>();
    for (const column of encoded.batch.columns)
      if (column.sourceWords) leftAt.add(column.sourceWords.position - leave.position);
    const missed = this.#holes.settle(leave.shape, leave.holes, leftAt);
    for (const hole of missed)
      this.#reader.fill(
        body.bytes.subarray(hole.offset, hole.offset + hole.length),
        leave.position + hole.offset,
      );
  }

  async #run(url: string, options: Extract<ToDecoder, { type: 'open' }>['options']): Promise<void> {
    let stream: BatchStream | null = null;
    try {
      stream = await openBatchStream(this.#withBodies(), url, (m) => this.#indices.get(m));
      const { plans } = planColumns(stream.schema, options, url, stream.unreadable, stream.runEndEncoded);
      let decodeMs = stream.decodeMs;
      for await (const decoded of stream.batches) {
        if (this.#stopped) return;
        const body = this.#bodies.get(decoded.index) as WorkerBody;
        this.#bodies.delete(decoded.index);
        const encoded = encodeBatch(
          decoded,
          body,
          plans,
          url,
          this.#packer,
          this.scratch,
          this.#dictionaries,
        );
        this.#fillMissedHoles(body, encoded);
        if (encoded.keptBody) this.scratch.give(encoded.keptBody);
        encoded.batch.decodeMs = stream.decodeMs - decodeMs;
        decodeMs = stream.decodeMs;
        this.#pending.shift();
        this.#deliver(encoded);
      }
    } catch (error) {
      if (this.#stopped) return;
      const serialized =
        error instanceof ArrowGpuError
          ? serializeError(error)
          : { message: String((error as Error)?.message ?? error) };
      this.post(
        { type: 'error', session: this.#session, batch: this.#pending[0] ?? -1, error: serialized },
        [],
      );
    }
  }
}
