/**
 * Where the read worker ends chunks early, so that a run of bytes the loader takes whole (a large
 * message body) lies in a chunk of its own. It only moves chunk ends, never the bytes.
 */
export interface ChunkCuts {
  /**
   * Passes over the leading bytes of `bytes` up to the start of the next run that gets its own chunk:
   * returns how many it passed, and `ownChunk`, that run's length when one starts right after them
   * (its bytes are then not scanned: the next call starts after them).
   */
  scan(bytes: Uint8Array): { passed: number; ownChunk: number };
  /**
   * How many of the bytes scanned so far belong to a message not yet complete (0 at a message's end;
   * absent, or 0, when not known): bytes that can wait for the rest of their message.
   */
  messageBytes?(): number;
}

/** No cuts: chunks end only when full. */
export const NO_CUTS: ChunkCuts = { scan: (bytes) => ({ passed: bytes.byteLength, ownChunk: 0 }) };
