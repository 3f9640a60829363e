/** Raised when a flatbuffer points outside its bytes; `position` is relative to the flatbuffer's start. */
export class FlatbufferBoundsError extends Error {
  constructor(
    readonly position: number,
    readonly length: number,
  ) {
    super(`flatbuffer read of ${length} byte(s) at position ${position} is out of bounds`);
  }
}

const decoder = new TextDecoder();

/** The high 32 bits of 2^53: a 64-bit value whose high half reaches it is not a safe integer. */
const SAFE_HIGH_LIMIT = 2 ** 21;

/**
 * A read-only view of one flatbuffer whose every access is bounds-checked, so that malformed metadata
 * fails with a position instead of a `RangeError` or a read of unrelated bytes.
 */
export class FlatbufferView {
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get byteLength(): number {
    return this.#view.byteLength;
  }

  /** Position of the root table. */
  root(): number {
    return this.#offsetAt(0);
  }

  /** Position of field `index` of the table at `table`, or `null` when the field is absent. */
  field(table: number, index: number): number | null {
    const vtable = table - this.i32(table);
    const vtableSize = this.u16(vtable);
    const entry = 4 + index * 2;
    if (entry + 2 > vtableSize) return null;
    const offset = this.u16(vtable + entry);
    return offset === 0 ? null : table + offset;
  }

  /** Position of the table or vector that the offset field at `position` refers to. */
  indirect(position: number): number {
    return this.#offsetAt(position);
  }

  /** `{ start, length }` of the vector referenced at `position`, with `elementSize` bytes per element checked. */
  vector(position: number, elementSize: number): { start: number; length: number } {
    const vec = this.#offsetAt(position);
    const length = this.u32(vec);
    this.#check(vec + 4, length * elementSize);
    return { start: vec + 4, length };
  }

  /** The UTF-8 string referenced at `position` (`''` when the field is absent), bounds-checked. */
  string(position: number | null): string {
    if (position === null) return '';
    const { start, length } = this.vector(position, 1);
    const view = this.#view;
    return decoder.decode(new Uint8Array(view.buffer, view.byteOffset + start, length));
  }

  u8(position: number): number {
    this.#check(position, 1);
    return this.#view.getUint8(position);
  }

  u16(position: number): number {
    this.#check(position, 2);
    return this.#view.getUint16(position, true);
  }

  i16(position: number): number {
    this.#check(position, 2);
    return this.#view.getInt16(position, true);
  }

  u32(position: number): number {
    this.#check(position, 4);
    return this.#view.getUint32(position, true);
  }

  i32(position: number): number {
    this.#check(position, 4);
    return this.#view.getInt32(position, true);
  }

  /**
   * A signed 64-bit integer as a JS number; values beyond ±(2^53 − 1) come back as ±Infinity. Read as two
   * 32-bit halves: a `BigInt` a read made the framer's checks of each batch's nodes and buffers cost
   * tens of microseconds.
   */
  i64(position: number): number {
    this.#check(position, 8);
    const lo = this.#view.getUint32(position, true);
    const hi = this.#view.getInt32(position + 4, true);
    if (hi >= SAFE_HIGH_LIMIT) return Number.POSITIVE_INFINITY; // 2^53 or more
    if (hi < -SAFE_HIGH_LIMIT || (hi === -SAFE_HIGH_LIMIT && lo === 0)) return Number.NEGATIVE_INFINITY;
    return hi * 2 ** 32 + lo; // exact below 2^53 in magnitude
  }

  #offsetAt(position: number): number {
    return position + this.u32(position);
  }

  #check(position: number, length: number): void {
    if (!(position >= 0 && length >= 0 && position + length <= this.#view.byteLength)) {
      throw new FlatbufferBoundsError(position, length);
    }
  }
}
