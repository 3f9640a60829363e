import { hashKey, type KeyBytes } from './byte-keys.js';

const EMPTY = 0;

/** Most bytes of keys a table holds: their positions are 32-bit. */
export const MAX_KEY_BYTES = 2 ** 31 - 1;
const MIN_SLOTS = 1024;

/**
 * Byte strings → codes, by open addressing on a hash of their bytes. Keys are copied once into one
 * growing arena, so a lookup allocates nothing and compares bytes with bytes, four at a step: a
 * dictionary column's rows are coded without building a string or a key object per row.
 */
export class ByteTable {
  /** Entry + 1 by slot (0: empty); the slot count is a power of two, at most half full. */
  #slots = new Int32Array(MIN_SLOTS);
  #hashes = new Int32Array(MIN_SLOTS / 2);
  #codes = new Int32Array(MIN_SLOTS / 2);
  /** Entry `e`'s bytes are `#arena[#starts[e], #starts[e + 1])`. */
  #starts = new Int32Array(MIN_SLOTS / 2 + 1);
  #arena = new Uint8Array(1 << 14);
  #arenaView = new DataView(this.#arena.buffer);
  #size = 0;

  /** `maxBytes`: most bytes of keys held in all (at most `MAX_KEY_BYTES`). */
  constructor(readonly maxBytes = MAX_KEY_BYTES) {}

  /** Bytes of the keys held. */
  get byteLength(): number {
    return this.#starts[this.#size] as number;
  }

  /** Distinct keys held. */
  get size(): number {
    return this.#size;
  }

  /** The code of the key `source.bytes[start, end)`, or -1 when it is not held. */
  get(source: KeyBytes, start: number, end: number): number {
    const hash = hashKey(source, start, end);
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = (slots[slot] as number) - 1;
      if (entry < 0) return -1;
      if (this.#hashes[entry] === hash && this.#holds(entry, source, start, end)) {
        return this.#codes[entry] as number;
      }
    }
  }

  /** Whether the key `bytes[start, end)` would pass `maxBytes`. */
  full(start: number, end: number): boolean {
    return this.byteLength + (end - start) > Math.min(this.maxBytes, MAX_KEY_BYTES);
  }

  /** Adds the key `source.bytes[start, end)` (not held yet) with `code`; a RangeError past `maxBytes`. */
  add(source: KeyBytes, start: number, end: number, code: number): void {
    if (this.full(start, end)) throw new RangeError(`keys of more than ${this.maxBytes} bytes in all`);
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    const entry = this.#size;
    const from = this.#starts[entry] as number;
    this.#reserve(from + end - start);
    this.#arena.set(source.bytes.subarray(start, end), from);
    this.#starts[entry + 1] = from + end - start;
    const hash = hashKey(source, start, end);
    this.#hashes[entry] = hash;
    this.#codes[entry] = code;
    this.#size = entry + 1;
    this.#place(entry, hash);
  }

  /**
   * Entries `from` onwards, in the order they were added, as Arrow lays out text: a copy, whose key
   * `e` is `bytes[offsets[e], offsets[e + 1])`.
   */
  keysFrom(from: number): { offsets: Int32Array; bytes: Uint8Array } {
    const base = this.#starts[from] as number;
    const offsets = this.#starts.slice(from, this.#size + 1);
    for (let i = 0; i < offsets.length; i++) offsets[i] = (offsets[i] as number) - base;
    return { offsets, bytes: this.#arena.slice(base, this.#starts[this.#size] as number) };
  }

  #holds(entry: number, source: KeyBytes, start: number, end: number): boolean {
    let at = this.#starts[entry] as number;
    if ((this.#starts[entry + 1] as number) - at !== end - start) return false;
    const { bytes, view } = source;
    const arena = this.#arenaView;
    let i = start;
    for (; i + 4 <= end; i += 4, at += 4)
      if (arena.getInt32(at, true) !== view.getInt32(i, true)) return false;
    for (; i < end; i++, at++) if (this.#arena[at] !== bytes[i]) return false;
    return true;
  }

  #place(entry: number, hash: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
    slots[slot] = entry + 1;
  }

  #grow(): void {
    const capacity = this.#slots.length;
    this.#slots = new Int32Array(capacity * 2);
    this.#hashes = widen(this.#hashes, capacity);
    this.#codes = widen(this.#codes, capacity);
    this.#starts = widen(this.#starts, capacity + 1);
    for (let entry = 0; entry < this.#size; entry++) this.#place(entry, this.#hashes[entry] as number);
  }

  #reserve(bytes: number): void {
    if (bytes <= this.#arena.length) return;
    const arena = new Uint8Array(Math.max(bytes, this.#arena.length * 2));
    arena.set(this.#arena);
    this.#arena = arena;
    this.#arenaView = new DataView(arena.buffer);
  }
}

function widen(array: Int32Array<ArrayBuffer>, length: number): Int32Array<ArrayBuffer> {
  const wider = new Int32Array(length);
  wider.set(array);
  return wider;
}
