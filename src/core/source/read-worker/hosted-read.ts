import { ArrowGpuError, asArrowGpuError, serializeError } from '../../errors.js';
import { isByob } from '../byob.js';
import type { ByteSource } from '../byte-source.js';
import { MarkerTail } from '../marker-tail.js';
import type { ChunkCuts } from './chunk-cuts.js';
import { type ChunkStock, newChunk } from './chunk-stock.js';
import type { FromReader } from './protocol.js';

/** Posts a message to the loader thread, moving `transfer`. */
export type PostToLoader = (message: FromReader, transfer: ArrayBuffer[]) => void;

/**
 * Bytes of one chunk sent to the loader: the body is copied into chunks of this size as it is read, and
 * one that is less than half full when the loader asks is copied out, so that a chunk never holds a
 * large buffer for a few bytes. Large enough that most small record batch bodies lie within one chunk
 * (the loader then takes them as views, without joining; bodies of 1 MiB or more get chunks of their
 * own), small enough that the few chunks the loader's thread holds at once stay small: against 4 MiB,
 * a 256 MiB load of 64 KiB batches peaked 4 MiB lower there on an H100 host, no slower.
 */
export const READ_CHUNK_BYTES = 2 << 20;

/** Bytes one read of the response asks for. */
const READ_BYTES = 1 << 20;

/** How far a read runs ahead of the loader, and how much one pull takes. */
export interface HostedReadLimits {
  /** Bytes held unasked at most: reading waits past them. */
  maxBytes: number;
  /**
   * Bytes one pull sends: held chunks, whole and in order, until at least this many went. The rest stay
   * here, so that the lead lives on this thread and not on the loader's.
   */
  pullBytes: number;
}

/**
 * One response read on the read worker. Its body is read ahead, copied into chunks of
 * `READ_CHUNK_BYTES`, while less than `maxBytes` wait unasked; each `pull` of the loader sends about
 * `pullBytes` of what is held, or the next bytes as soon as they are read when none is. The bytes keep
 * the body's order.
 */
export class HostedRead {
  readonly #id: number;
  readonly #post: PostToLoader;
  readonly #maxBytes: number;
  readonly #pullBytes: number;
  readonly #controller = new AbortController();
  /** Full chunks and copied-out tails, in order, not yet sent. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  /** The chunk being filled, and how many of its bytes are not yet sent. */
  #chunk: Uint8Array;
  #filled = 0;
  /** Where chunks end early (large message bodies get their own). */
  readonly #cuts: ChunkCuts;
  /** The chunk of its own a large body is being copied into, and how much of it is in. */
  #body: { chunk: Uint8Array; filled: number } | null = null;
  /** The loader asked for bytes and got none yet (it wants the first ones from the start). */
  #wanted = true;
  /** Of that, it holds none of the body's bytes left: it waits for the next ones. */
  #starving = true;
  /** Where in an 8-byte word of the body the chunk being filled starts. */
  #start = 0;
  /** The body was read to its end: what is held is all there is, sent as the loader pulls it. */
  #ended = false;
  /** The last bytes went, with `end`. */
  #done = false;
  /** `chunks` messages sent. */
  #sends = 0;
  /**
   * The last bytes read: once they end with an end-of-stream marker, nothing more is read until the
   * loader asks for bytes and none is held. Its messages end there, and it closes the request rather
   * than have this thread read the response to its end (see `MarkerTail`), which would hold up the
   * next load's request behind it.
   */
  readonly #tail = new MarkerTail();
  #wake: (() => void) | null = null;

  /** Buffers the loader gave back, for later chunks of about their sizes. */
  readonly #stock: ChunkStock | null;

  constructor(id: number, post: PostToLoader, limits: HostedReadLimits, cuts: ChunkCuts, stock?: ChunkStock) {
    this.#id = id;
    this.#cuts = cuts;
    this.#post = post;
    this.#maxBytes = limits.maxBytes;
    this.#pullBytes = limits.pullBytes;
    this.#stock = stock ?? null;
    this.#chunk = this.#newChunk();
  }

  /** Aborted by `cancel`: the signal the request is opened with. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Sends the response's length, then its body as the loader pulls it, to its last bytes; a failure
   * goes as its typed error.
   */
  async run(open: () => Promise<ByteSource>): Promise<void> {
    try {
      const source = await open();
      if (this.signal.aborted) return;
      this.#post({ type: 'opened', id: this.#id, bytesTotal: source.bytesTotal }, []);
      await this.#readAll(source.body);
      if (this.signal.aborted) return;
      this.#finish();
      await this.#sentAll();
    } catch (error) {
      if (this.signal.aborted) return;
      this.#flush(); // the bytes before the failure, so that its byte offset stays true
      const typed = error instanceof ArrowGpuError ? error : asArrowGpuError(error);
      this.#post({ type: 'failed', id: this.#id, error: serializeError(typed) }, []);
    }
  }

  /**
   * The loader asks for bytes; `starving`: it has none left. `received`: the sends it had then; one
   * that has not come to it yet answers the pull.
   */
  pull(starving: boolean, received: number): void {
    if (received < this.#sends) return;
    this.#wanted = true;
    if (starving) this.#starving = true;
    this.#send();
    this.#wake?.();
  }

  /** Closes the request; nothing more is sent. */
  cancel(): void {
    this.#controller.abort();
    this.#held = [];
    this.#heldBytes = 0;
    this.#wake?.();
  }

  /** Reads the body to its end (or the cancel), into a buffer of its own when it can (a byte stream). */
  async #readAll(body: AsyncIterable<Uint8Array>): Promise<void> {
    if (!isByob(body)) {
      for await (const chunk of body) {
        this.#append(chunk);
        if (!(await this.#room())) return;
      }
      return;
    }
    let scratch = new Uint8Array(READ_BYTES);
    for (;;) {
      if (!(await this.#room())) return;
      const got = await body.readInto(scratch);
      if (got.byteLength === 0) return;
      this.#append(got);
      // A byte stream moves the buffer it reads into: the next read goes into the one it gave back.
      scratch = new Uint8Array(got.buffer as ArrayBuffer, 0, READ_BYTES);
    }
  }

  /**
   * Copies `bytes` into chunks, a run that `cuts` sets apart into one of its own, then sends
   * them if the loader waits for bytes.
   */
  #append(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength) {
      if (this.#body) {
        at += this.#fillBody(bytes.subarray(at));
        continue;
      }
      const { passed, ownChunk } = this.#cuts.scan(bytes.subarray(at));
      this.#copy(bytes.subarray(at, at + passed));
      at += passed;
      if (ownChunk > 0) {
        this.#seal(true); // the bytes before the body, whatever their length
        this.#body = { chunk: this.#stock?.take(ownChunk) ?? newChunk(ownChunk), filled: 0 };
      }
    }
    this.#tail.push(bytes);
    if (this.#wanted) this.#send();
  }

  /** Copies into the body's own chunk what of `bytes` belongs to it; held once full. The bytes taken. */
  #fillBody(bytes: Uint8Array): number {
    const body = this.#body as { chunk: Uint8Array; filled: number };
    const n = Math.min(bytes.byteLength, body.chunk.byteLength - body.filled);
    body.chunk.set(bytes.subarray(0, n), body.filled);
    body.filled += n;
    if (body.filled === body.chunk.byteLength) {
      this.#hold(body.chunk);
      this.#start = (this.#start + body.filled) % 8;
      this.#body = null;
    }
    return n;
  }

  /** Copies `bytes` into the chunks of `READ_CHUNK_BYTES`. */
  #copy(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - at, READ_CHUNK_BYTES - this.#filled);
      this.#chunk.set(bytes.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (this.#filled === READ_CHUNK_BYTES) this.#seal();
    }
  }

  /**
   * Moves the chunk being filled to the held ones: as it is when at least half full, else copied out.
   * Unless `all`, a chunk that ends inside a message ends on a multiple of 8 bytes of the body, its
   * last few bytes starting the next chunk: chunks then start 8-byte aligned, and so does each record
   * batch body in them (bodies are aligned in the stream), which the loader reads in place rather than
   * copying it to align its columns. Bytes held back are of a message not yet complete: none waits for them.
   */
  #seal(all = false): void {
    const filled = this.#filled;
    // Only bytes of a message still to complete wait (at most its bytes so far): none of a whole one.
    const hold = all ? 0 : Math.min((this.#start + filled) % 8, this.#cuts.messageBytes?.() ?? 0);
    const sealed = Math.max(0, filled - hold);
    if (sealed === 0) return;
    this.#start = (this.#start + sealed) % 8;
    if (sealed * 2 >= READ_CHUNK_BYTES) {
      const chunk = this.#chunk;
      this.#hold(chunk.subarray(0, sealed));
      this.#chunk = this.#newChunk();
      this.#chunk.set(chunk.subarray(sealed, filled));
    } else {
      this.#hold(this.#chunk.slice(0, sealed));
      this.#chunk.copyWithin(0, sealed, filled);
    }
    this.#filled = filled - sealed;
  }

  /** A chunk of `READ_CHUNK_BYTES` to copy bytes into: one the loader gave back if there is one. */
  #newChunk(): Uint8Array {
    return this.#stock?.take(READ_CHUNK_BYTES) ?? newChunk(READ_CHUNK_BYTES);
  }

  /** The held chunks from the first, until at least `bytes` are taken (all of them when fewer are held). */
  #takeHeld(bytes: number): Uint8Array[] {
    let taken = 0;
    let count = 0;
    while (count < this.#held.length && taken < bytes)
      taken += (this.#held[count++] as Uint8Array).byteLength;
    this.#heldBytes -= taken;
    return this.#held.splice(0, count);
  }

  /** Adds a finished chunk to those waiting to be sent. */
  #hold(chunk: Uint8Array): void {
    this.#held.push(chunk);
    this.#heldBytes += chunk.byteLength;
  }

  /**
   * Waits while `maxBytes` wait unasked, or the bytes read end with an end-of-stream marker and the
   * loader is not starving; `false` once cancelled. A body's own chunk does not count until it is full:
   * the loader can use none of it before.
   */
  async #room(): Promise<boolean> {
    await this.#waitWhile(
      () => this.#heldBytes + this.#filled >= this.#maxBytes || (this.#tail.atMarker && !this.#starving),
    );
    return !this.signal.aborted;
  }

  /** Waits, woken by each pull, while `busy` holds and the read is not cancelled. */
  async #waitWhile(busy: () => boolean): Promise<void> {
    while (busy() && !this.signal.aborted) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = null;
    }
  }

  /** The body ended: every byte is held now, and goes as the loader pulls it (at once if it waits). */
  #finish(): void {
    this.#ended = true;
    this.#closeChunks();
    if (this.#wanted || this.#held.length === 0) this.#send();
  }

  /** Holds the chunk being filled and a body's own chunk, however little of them came. */
  #closeChunks(): void {
    this.#seal(true);
    if (this.#body) {
      this.#hold(this.#body.chunk.subarray(0, this.#body.filled));
      this.#body = null;
    }
  }

  /** Waits until the last bytes went, or the read was cancelled. */
  #sentAll(): Promise<void> {
    return this.#waitWhile(() => !this.#done);
  }

  /** Sends every byte held at once: the read failed, and they come before its error. */
  #flush(): void {
    this.#closeChunks();
    if (this.#held.length > 0) this.#postChunks(this.#takeHeld(Number.POSITIVE_INFINITY), false);
  }

  /**
   * Sends a pull's worth of what is held (whole chunks), if anything; the chunk being filled goes only
   * when the full ones fall short. Once the body ended, the send that empties what is held says so
   * (`end`), even with no bytes: the loader's thread never holds more than a pull's worth at once.
   */
  #send(): void {
    if (this.#done) return;
    if (!this.#ended && this.#heldBytes < this.#pullBytes) this.#seal(false);
    if (this.#held.length === 0 && !this.#ended) return;
    const chunks = this.#takeHeld(this.#pullBytes);
    const end = this.#ended && this.#held.length === 0;
    this.#wanted = false;
    this.#starving = false;
    this.#done = end;
    this.#postChunks(chunks, end);
  }

  /** Moves `chunks` to the loader; `end`: the body ends after them. */
  #postChunks(chunks: Uint8Array[], end: boolean): void {
    const transfer = chunks.map((chunk) => chunk.buffer as ArrayBuffer);
    this.#sends++;
    this.#post({ type: 'chunks', id: this.#id, chunks, end }, transfer);
  }
}
