import { canGiveBack, giveBackBuffer, takeGiveBack } from './owned-buffers.js';

/**
 * Read worker chunks that hold the bytes of several messages (its chunks of `READ_CHUNK_BYTES`, as
 * opposed to a large body's own). A record batch body that lies in one is a view of it, used until its
 * batch is uploaded; the chunk goes back to the read worker, to be read into again instead of new
 * memory being written, once the byte reader has moved past it (`passShared`) and every body held in
 * it is released. A chunk with bytes the load keeps longer (a dictionary batch's, bytes to read again)
 * is pinned and stays.
 */
const holds = new WeakMap<ArrayBuffer, number>();

/** The views held: a view released twice ends one hold, not two (which would give its chunk back early). */
const heldViews = new WeakSet<Uint8Array>();

/** Chunks the reader has moved past while bodies in them were held. */
const passed = new WeakSet<ArrayBuffer>();

/** Holds the chunk `view` lies in until `releaseShared(view)`; `false` when it is no such chunk (nothing to release). */
export function holdShared(view: Uint8Array): boolean {
  const buffer = view.buffer as ArrayBuffer;
  if (!canGiveBack(buffer) || heldViews.has(view)) return false;
  heldViews.add(view);
  holds.set(buffer, (holds.get(buffer) ?? 0) + 1);
  return true;
}

/** Ends a hold of `holdShared`: the last one of a chunk the reader has passed gives it back. */
export function releaseShared(view: Uint8Array): void {
  const buffer = view.buffer as ArrayBuffer;
  const held = holds.get(buffer);
  if (held === undefined || !heldViews.delete(view)) return;
  if (held > 1) {
    holds.set(buffer, held - 1);
    return;
  }
  holds.delete(buffer);
  if (passed.delete(buffer)) giveBackBuffer(buffer);
}

/**
 * The reader has moved past `buffer` and the views it handed out of it are held, pinned or done with:
 * it goes back now if nothing holds it, else with its last release.
 */
export function passShared(buffer: ArrayBuffer): void {
  if (holds.has(buffer)) passed.add(buffer);
  else giveBackBuffer(buffer);
}

/** Keeps the chunk `view` lies in for good: its bytes are used for longer than one batch. */
export function pinShared(view: Uint8Array): void {
  takeGiveBack(view);
}
