import { deserializeError } from '../../errors.js';
import { type GiveBack, markOwned } from '../owned-buffers.js';
import type { FromReader } from './protocol.js';

/**
 * One response as the loader thread reads it from the read worker: the chunks it sent, in order, and
 * a `pull` whenever fewer than `lowWaterBytes` wait here, so that the next bytes are on their way
 * before these run out; a starving one when none is left (the worker may hold its reads until then).
 */
export class RemoteRead {
  readonly #pull: (starving: boolean, received: number) => void;
  /** `chunks` messages received. */
  #received = 0;
  readonly #lowWaterBytes: number;
  #chunks: Uint8Array[] = [];
  #heldBytes = 0;
  /** A pull is on its way and unanswered (an `open` asks for the first bytes, starving). */
  #asked = true;
  /** Of those, a starving one. */
  #askedStarving = true;
  #ended = false;
  #error: { reason: unknown } | null = null;
  #wake: (() => void) | null = null;
  #settleOpen: { resolve: (bytesTotal: number | null) => void; reject: (reason: unknown) => void } | null =
    null;
  /** The response's announced length, once its headers came; rejects when it fails first. */
  readonly opened: Promise<number | null>;

  /**
   * `pull(starving, received)` asks the worker for bytes; `giveBack` returns a chunk's buffer to the
   * worker once the load is done with it.
   */
  constructor(
    pull: (starving: boolean, received: number) => void,
    lowWaterBytes: number,
    readonly giveBack?: GiveBack,
  ) {
    this.#pull = pull;
    this.#lowWaterBytes = lowWaterBytes;
    this.opened = new Promise((resolve, reject) => {
      this.#settleOpen = { resolve, reject };
    });
    this.opened.catch(() => {}); // a load that stops waiting for it is told otherwise
  }

  /** Whether the read ended: its last bytes came, or it failed. */
  get settled(): boolean {
    return this.#ended || this.#error !== null;
  }

  /** Takes a message of the read worker about this response. */
  receive(message: FromReader): void {
    switch (message.type) {
      case 'opened':
        this.#settleOpen?.resolve(message.bytesTotal);
        this.#settleOpen = null;
        return;
      case 'chunks':
        this.#received++;
        this.#asked = false;
        this.#askedStarving = false;
        for (const chunk of message.chunks) {
          markOwned(chunk, this.giveBack); // moved here: nothing else refers to it
          this.#chunks.push(chunk);
          this.#heldBytes += chunk.byteLength;
        }
        if (message.end) this.#ended = true;
        else this.#askIfLow();
        this.#wake?.();
        return;
      case 'failed':
        this.fail(deserializeError(message.error));
        return;
    }
  }

  /** Fails the read with `reason` unless it ended: the body throws it once the bytes before it are read. */
  fail(reason: unknown): void {
    if (this.settled) return;
    this.#error = { reason };
    this.#settleOpen?.reject(reason);
    this.#settleOpen = null;
    this.#wake?.();
  }

  /** Ends the read at once with `reason` (a cancel): the bytes held are dropped. */
  cancel(reason: unknown): void {
    if (this.settled) return;
    this.#chunks = [];
    this.#heldBytes = 0;
    this.fail(reason);
  }

  /** The body's bytes, in the chunks they came in. */
  async *body(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#heldBytes -= chunk.byteLength;
        this.#askIfLow();
        yield chunk;
        continue;
      }
      if (this.#error) throw this.#error.reason;
      if (this.#ended) return;
      this.#askStarving();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = null;
    }
  }

  #askIfLow(): void {
    if (this.#asked || this.settled || this.#heldBytes >= this.#lowWaterBytes) return;
    this.#asked = true;
    this.#pull(false, this.#received);
  }

  /** Every byte here is read: the worker is told so, once until its next bytes come. */
  #askStarving(): void {
    if (this.#askedStarving) return;
    this.#asked = true;
    this.#askedStarving = true;
    this.#pull(true, this.#received);
  }
}
