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
  /** Whether the bytes scanned so far end inside a message (absent: not known). */
  midMessage?(): boolean;
}

/** No cuts: chunks end only when full. */
export const NO_CUTS: ChunkCuts = { scan: (bytes) => ({ passed: bytes.byteLength, ownChunk: 0 }) };
