import { UnsupportedFault } from './metadata/checks.js';
import type { NodeLayout } from './metadata/field.js';
import type { BatchShape, BufferRegion } from './metadata/record-batch.js';
import type { SchemaLayout } from './metadata/schema.js';
import type { BufferKind, ValueOrder } from './metadata/type-layout.js';

/** One buffer to turn little-endian: where it lies in the body, and how its values are made. */
interface Swap extends BufferRegion {
  /** Bytes a value takes. */
  width: number;
  /** The widths of the numbers a value holds, or `view`. */
  order: ValueOrder;
}

/** Bytes of a binary view, and the most it holds inline (after its 4-byte length). */
const VIEW_BYTES = 16;
const VIEW_INLINE_BYTES = 12;

/**
 * The columns of a big-endian schema that hold a buffer whose values have no known width (an odd bit
 * width, an unknown interval unit…): those cannot be turned little-endian. Dictionaries' values included.
 */
export function unswappableColumns(layout: SchemaLayout): string[] {
  const columns = new Set<string>();
  for (const nodes of [layout.layout, ...[...layout.dictionaries.values()].map((d) => d.layout)]) {
    for (const node of nodes) if (node.buffers.some((kind) => kind.kind === 'free')) columns.add(node.column);
  }
  return [...columns];
}

/**
 * Turns the body of a big-endian batch little-endian, in place (the body is the library's own bytes):
 * every number in its fixed-width buffers and offsets is byte-reversed, each part of a compound value
 * (intervals, binary views) on its own, a decimal as one integer. Bitmaps, variable-size values, fixed-size
 * binary and view types' data buffers are bytes and stay. `layout` is what the batch's nodes follow.
 */
export function swapBody(body: Uint8Array, batch: BatchShape, layout: readonly NodeLayout[]): void {
  const swaps = swapsOf(batch, layout);
  checkDisjoint(swaps);
  for (const swap of swaps) {
    const bytes = body.subarray(swap.offset, swap.offset + swap.length);
    const count = Math.floor(bytes.byteLength / swap.width);
    if (swap.order === 'view') swapViews(bytes, count);
    else swapValues(bytes, count, swap.width, swap.order);
  }
}

/** The batch's buffers that hold numbers, in body order. */
function swapsOf(batch: BatchShape, layout: readonly NodeLayout[]): Swap[] {
  const { regions, variadicCounts } = batch;
  const swaps: Swap[] = [];
  let next = 0;
  let views = 0;
  for (const node of layout) {
    for (const kind of node.buffers) {
      const region = regions[next++];
      const swap = region === undefined ? null : swapOf(kind, region, node);
      if (swap !== null && swap.length >= swap.width) swaps.push(swap);
    }
    // A view column's data buffers follow its views: bytes.
    if (node.variadic) next += variadicCounts[views++] ?? 0;
  }
  return swaps;
}

/** How one buffer is swapped, or `null` when it holds bytes only. */
function swapOf(kind: BufferKind, region: BufferRegion, node: NodeLayout): Swap | null {
  switch (kind.kind) {
    case 'bits':
    case 'values':
      return null;
    case 'offsets':
      return { ...region, width: kind.width, order: [kind.width] };
    case 'fixed': {
      const order = kind.order ?? [kind.width];
      if (order !== 'view' && order.every((part) => part <= 1)) return null;
      return { ...region, width: kind.width, order };
    }
    case 'free':
      throw new UnsupportedFault(
        `column "${node.column}" is big-endian, and its field "${node.name}" has values of no known width to swap`,
      );
  }
}

/** Swapping in place is only right when no two buffers share bytes. */
function checkDisjoint(swaps: Swap[]): void {
  const sorted = [...swaps].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1] as Swap;
    const here = sorted[i] as Swap;
    if (before.offset + before.length > here.offset) {
      throw new UnsupportedFault(
        `big-endian buffers at body bytes ${before.offset} and ${here.offset} overlap and cannot be swapped in place`,
      );
    }
  }
}

/** Reverses, in each of `count` values, each of its numbers (`parts` are their widths). */
function swapValues(bytes: Uint8Array, count: number, width: number, parts: readonly number[]): void {
  if (parts.length === 1) {
    reverseEach(bytes, count, width);
    return;
  }
  for (let value = 0; value < count; value++) {
    let at = value * width;
    for (const part of parts) {
      reverse(bytes, at, part);
      at += part;
    }
  }
}

/** Reverses each of `count` numbers of `width` bytes, one after the other. */
function reverseEach(bytes: Uint8Array, count: number, width: number): void {
  if (width === 4) {
    for (let at = 0; at < count * 4; at += 4) {
      const a = bytes[at] as number;
      const b = bytes[at + 1] as number;
      bytes[at] = bytes[at + 3] as number;
      bytes[at + 1] = bytes[at + 2] as number;
      bytes[at + 2] = b;
      bytes[at + 3] = a;
    }
    return;
  }
  for (let at = 0; at < count * width; at += width) reverse(bytes, at, width);
}

/** Reverses `width` bytes at `at`. */
function reverse(bytes: Uint8Array, at: number, width: number): void {
  for (let i = at, j = at + width - 1; i < j; i++, j--) {
    const b = bytes[i] as number;
    bytes[i] = bytes[j] as number;
    bytes[j] = b;
  }
}

/**
 * Turns `count` binary views little-endian: the length first, then, for a value too long to be inline,
 * its buffer index and offset (its 4-byte prefix is bytes); an inline value's 12 bytes are bytes.
 */
function swapViews(bytes: Uint8Array, count: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < count * VIEW_BYTES; at += VIEW_BYTES) {
    const length = view.getInt32(at, false);
    view.setInt32(at, length, true);
    if (length > VIEW_INLINE_BYTES) {
      reverse(bytes, at + 8, 4);
      reverse(bytes, at + 12, 4);
    }
  }
}
