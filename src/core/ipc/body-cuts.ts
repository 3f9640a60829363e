import type { ChunkCuts } from '../source/read-worker/chunk-cuts.js';
import { FlatbufferView } from './flatbuffer-view.js';

/** Bodies of at least this many bytes get a chunk of their own. */
export const OWN_CHUNK_MIN_BYTES = 1 << 20;

/** Largest chunk a body gets: a longer one is sent in ordinary chunks (and joined by the loader). */
export const OWN_CHUNK_MAX_BYTES = 256 << 20;

/** Longest metadata followed: a message with more is left to the loader, and nothing after it is cut. */
const MAX_METADATA_BYTES = 1 << 20;

/** The Arrow file format's leading magic, with its padding. */
const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31, 0, 0];

/** `Message.bodyLength`'s field index in Arrow's Message.fbs. */
const MESSAGE_BODY_LENGTH = 3;

type State = 'start' | 'prefix' | 'metadata' | 'body' | 'off';

/**
 * Follows the Arrow IPC framing of a byte stream as it is read, only to find where large message
 * bodies start, so that the read worker can put each in a chunk of its own: the loader then takes it
 * as it is (and can move it to a decode worker) instead of joining it from pieces. It checks nothing:
 * on anything it does not expect it stops cutting, and the loader's framer, which sees the same bytes
 * in the same order, reports what is wrong. A cut changes where chunks end, never the bytes.
 */
export class BodyCuts implements ChunkCuts {
  #state: State = 'start';
  /** The prefix or metadata bytes gathered so far, and how many the current state needs. */
  #gathered = new Uint8Array(8);
  #have = 0;
  #need = 8;
  /** Body bytes still to pass in the `body` state. */
  #bodyLeft = 0;
  /** The framing has the continuation marker: a message without it is the file's footer. */
  #marker = false;
  /** Bytes scanned of the message under way (0 at a message's end). */
  #inMessage = 0;

  scan(bytes: Uint8Array): { passed: number; ownChunk: number } {
    let at = 0;
    while (at < bytes.byteLength) {
      if (this.#state === 'off') return { passed: bytes.byteLength, ownChunk: 0 };
      if (this.#state === 'body') {
        const n = Math.min(this.#bodyLeft, bytes.byteLength - at);
        at += n;
        this.#bodyLeft -= n;
        this.#inMessage += n;
        if (this.#bodyLeft === 0) this.#messageEnd();
        continue;
      }
      const n = Math.min(this.#need - this.#have, bytes.byteLength - at);
      this.#gathered.set(bytes.subarray(at, at + n), this.#have);
      this.#have += n;
      this.#inMessage += n;
      at += n;
      if (this.#have < this.#need) continue;
      const body = this.#gatheredAll();
      if (this.#state === 'prefix' && this.#have === 0 && body === 0) this.#inMessage = 0; // no body follows
      // The caller passes the body's bytes into its own chunk; the next message's prefix follows them.
      if (body >= OWN_CHUNK_MIN_BYTES && body <= OWN_CHUNK_MAX_BYTES) {
        this.#inMessage = 0; // its message ends with those bytes
        return { passed: at, ownChunk: body };
      }
      if (body > 0) {
        this.#state = 'body';
        this.#bodyLeft = body;
      }
    }
    return { passed: at, ownChunk: 0 };
  }

  /**
   * How many of the bytes scanned belong to a message begun and not done (its prefix, metadata or
   * body); 0 at a message's end, and once the framing is not followed.
   */
  messageBytes(): number {
    return this.#state === 'off' ? 0 : this.#inMessage;
  }

  /** A message's body was passed to its end: the next message's prefix follows. */
  #messageEnd(): void {
    this.#expect('prefix', 4);
    this.#inMessage = 0;
  }

  /** The current state's bytes are all in: moves on; a body's length when its metadata was read. */
  #gatheredAll(): number {
    const view = new DataView(this.#gathered.buffer, 0, this.#have);
    switch (this.#state) {
      case 'start':
        if (FILE_MAGIC.every((byte, i) => this.#gathered[i] === byte)) this.#expect('prefix', 4);
        else this.#prefix(view.getUint32(0, true), view.getInt32(4, true));
        return 0;
      case 'prefix':
        if (this.#have === 4 && view.getUint32(0, true) === 0xffffffff) this.#need = 8;
        else this.#prefix(view.getUint32(0, true), view.getInt32(this.#have - 4, true));
        return 0;
      case 'metadata':
        return this.#bodyLength();
      default:
        return 0;
    }
  }

  /** A message's prefix: the marker (or a bare length) and the metadata length that follows. */
  #prefix(first: number, length: number): void {
    const withMarker = first === 0xffffffff;
    if (this.#have === 8 && !withMarker) {
      // The stream's first 8 bytes: a bare length, then the metadata's first 4 bytes.
      this.#marker = false;
      const tail = this.#gathered.slice(4, 8);
      this.#startMetadata(first | 0, tail);
      return;
    }
    if (withMarker) this.#marker = true;
    else if (this.#marker) {
      this.#stop(); // the file's footer
      return;
    }
    this.#startMetadata(withMarker ? length : first | 0, null);
  }

  #startMetadata(length: number, head: Uint8Array | null): void {
    if (length <= 0 || length > MAX_METADATA_BYTES) {
      this.#stop(); // the end, or not understood
      return;
    }
    this.#expect('metadata', length);
    if (head) {
      const n = Math.min(head.byteLength, length);
      this.#gathered.set(head.subarray(0, n));
      this.#have = n;
      if (n === length) this.#stop(); // too short to hold a message: leave it to the loader
    }
  }

  /** `Message.bodyLength` of the gathered metadata; stops at metadata it cannot read. */
  #bodyLength(): number {
    try {
      const fb = new FlatbufferView(this.#gathered.subarray(0, this.#have));
      const field = fb.field(fb.root(), MESSAGE_BODY_LENGTH);
      const length = field === null ? 0 : fb.i64(field);
      if (!Number.isSafeInteger(length) || length < 0) return this.#stop();
      this.#expect('prefix', 4);
      return length;
    } catch {
      return this.#stop();
    }
  }

  #expect(state: State, bytes: number): void {
    this.#state = state;
    this.#have = 0;
    this.#need = bytes;
    if (this.#gathered.byteLength < bytes) this.#gathered = new Uint8Array(bytes);
  }

  #stop(): number {
    this.#state = 'off';
    return 0;
  }
}
