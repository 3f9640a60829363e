/**
 * What bounds one body buffer's size, as its field's type says; `length` is the field node's length.
 * These bounds let a compressed buffer's declared size be checked before it is decompressed.
 */
export type BufferKind =
  /** A bitmap (validity, or Bool values): ceil(length / 8) bytes. */
  | { kind: 'bits' }
  /** `width` bytes a value; `order` says which of them a big-endian source stores reversed. */
  | { kind: 'fixed'; width: number; order?: ValueOrder }
  /** length + 1 offsets of `width` bytes. */
  | { kind: 'offsets'; width: 4 | 8 }
  /** Variable-size values: as many bytes as the node's last offset says. */
  | { kind: 'values' }
  /** Nothing in the type bounds it (view types' variadic buffers, odd widths): only the codec's ratio. */
  | { kind: 'free' };

/**
 * The numbers a fixed-width value holds, for byte order: their widths in bytes, in order (absent: one
 * number of the value's width; empty: bytes, as in FixedSizeBinary), or `view` for a 16-byte binary view
 * (its length, then when not inline its buffer index and offset).
 */
export type ValueOrder = readonly number[] | 'view';

/** How the length of a node bounds the lengths of its children. */
export type ChildLength =
  /** The parent's length times `times` (struct, sparse union, fixed-size list, run-end encoded). */
  | { from: 'length'; times: number }
  /** The parent's last offset (lists, maps). */
  | { from: 'offsets' }
  /** Unbounded by the parent (dense unions, list views): children's buffers get the ratio cap only. */
  | { from: 'none' };

/** The body buffers of a type and how its children's lengths follow. */
export interface TypeLayout {
  buffers: readonly BufferKind[];
  children: ChildLength;
  /** View types: the batch lists its variadic data buffers after the fixed ones. */
  variadic: boolean;
}

/** A bitmap buffer. */
export const BITS: BufferKind = { kind: 'bits' };
/** A buffer only the codec's ratio bounds. */
export const FREE: BufferKind = { kind: 'free' };
/** Variable-size values, bounded by the node's last offset. */
export const VALUES: BufferKind = { kind: 'values' };
/** 32-bit offsets. */
export const OFFSETS_32: BufferKind = { kind: 'offsets', width: 4 };
/** 64-bit offsets. */
export const OFFSETS_64: BufferKind = { kind: 'offsets', width: 8 };
/** Children as long as their parent. */
export const SAME_LENGTH: ChildLength = { from: 'length', times: 1 };
/** Children as long as their parent's last offset. */
export const BY_OFFSETS: ChildLength = { from: 'offsets' };
/** Children (or no children) that the parent's length does not bound. */
export const UNBOUNDED: ChildLength = { from: 'none' };

/**
 * `width` bytes a value, made of the numbers `order` lists (absent: one number); a width that is not a
 * size leaves the buffer to the codec's ratio.
 */
export function fixed(width: number, order?: ValueOrder): BufferKind {
  if (!(Number.isSafeInteger(width) && width >= 0)) return FREE;
  return order === undefined ? { kind: 'fixed', width } : { kind: 'fixed', width, order };
}

/** A value of `bits` bits, as Int, Decimal, Time and dictionary indices declare them. */
export function bitWidth(bits: number): BufferKind {
  return [8, 16, 32, 64, 128, 256].includes(bits) ? fixed(bits / 8) : FREE;
}

/** A type without children. */
export function flat(...buffers: BufferKind[]): TypeLayout {
  return { buffers, children: UNBOUNDED, variadic: false };
}

/** A type whose children's lengths follow `children`. */
export function nested(children: ChildLength, ...buffers: BufferKind[]): TypeLayout {
  return { buffers, children, variadic: false };
}
