/**
 * Buffers that arrived from another thread and that nothing but the load refers to (the read worker's
 * chunks). A message body that fills one of them exactly may be moved to a decode worker and reused
 * as a pooled buffer; bytes a caller handed in never are, since the caller may still hold them.
 */
const owned = new WeakSet<ArrayBuffer>();

/** Marks `chunk`'s buffer as the load's own. */
export function markOwned(chunk: Uint8Array): void {
  owned.add(chunk.buffer as ArrayBuffer);
}

/** Whether `view` is the whole of a buffer that is the load's own. */
export function isOwnedWhole(view: Uint8Array): boolean {
  return (
    view.byteOffset === 0 &&
    view.byteLength === view.buffer.byteLength &&
    owned.has(view.buffer as ArrayBuffer)
  );
}
