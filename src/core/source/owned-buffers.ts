/**
 * Buffers that arrived from another thread and that nothing but the load refers to (the read worker's
 * chunks), with the length of the chunk each came as (from its start: the buffer may be longer, a size
 * its sender keeps buffers by). A message body that is such a chunk exactly may be moved to a decode
 * worker and reused as a pooled buffer; bytes a caller handed in never are, since the caller may still
 * hold them.
 */
const owned = new WeakMap<ArrayBuffer, number>();

/** Where an owned buffer goes once the load is done with it: back to the thread it came from. */
export type GiveBack = (buffer: ArrayBuffer) => void;

const giveBacks = new WeakMap<ArrayBuffer, GiveBack>();

/**
 * Marks `chunk`'s buffer as the load's own, `chunk` (at its start) being what it holds; `giveBack`, if
 * given, takes it back once released. A chunk that does not start its buffer is never taken whole (it
 * is not marked as owned), but it still goes back.
 */
export function markOwned(chunk: Uint8Array, giveBack?: GiveBack): void {
  const buffer = chunk.buffer as ArrayBuffer;
  if (chunk.byteOffset === 0) owned.set(buffer, chunk.byteLength);
  if (giveBack) giveBacks.set(buffer, giveBack);
}

/** Whether `view` is the whole of a chunk that is the load's own (see `markOwned`). */
export function isOwnedWhole(view: Uint8Array): boolean {
  return view.byteOffset === 0 && owned.get(view.buffer as ArrayBuffer) === view.byteLength;
}

/** Whether `buffer` still has a way back (it came with one, and neither went back nor was kept for good). */
export function canGiveBack(buffer: ArrayBuffer): boolean {
  return giveBacks.has(buffer);
}

/**
 * The way back of `view`'s buffer, taken off it: the buffer moves to another thread and returns as
 * another `ArrayBuffer` object, which `markOwned` then gives it to. Taken off a buffer that must stay
 * (bytes the load keeps), it is what keeps the buffer here.
 */
export function takeGiveBack(view: Uint8Array): GiveBack | undefined {
  return takeWayBack(view.buffer as ArrayBuffer);
}

/** Gives `buffer` back to where it came from, if it has a way back; whether it had. The buffer is moved (detached here). */
export function giveBackBuffer(buffer: ArrayBuffer): boolean {
  const giveBack = takeWayBack(buffer);
  giveBack?.(buffer);
  return giveBack !== undefined;
}

function takeWayBack(buffer: ArrayBuffer): GiveBack | undefined {
  const giveBack = giveBacks.get(buffer);
  giveBacks.delete(buffer);
  return giveBack;
}

/**
 * Gives a whole owned buffer that nothing uses any more back to where it came from, if it came with a
 * way back; whether it did. The buffer is moved (detached here).
 */
export function giveBackOwned(view: Uint8Array): boolean {
  return isOwnedWhole(view) && giveBackBuffer(view.buffer as ArrayBuffer);
}
