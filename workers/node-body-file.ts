import { closeSync, openSync, readSync } from 'node:fs';
import type { BodyFile } from '../src/core/pipeline/pool/protocol.js';

/**
 * A file as a decode worker reads deferred bodies from it: positioned reads, synchronous (they block
 * only this worker, and several workers read at once), looped until the target is full or the file ends.
 */
export function openNodeBodyFile(path: string): BodyFile {
  const fd = openSync(path, 'r');
  return {
    readAt(target, position) {
      let filled = 0;
      while (filled < target.byteLength) {
        const n = readSync(fd, target, filled, target.byteLength - filled, position + filled);
        if (n === 0) break;
        filled += n;
      }
      return filled;
    },
    close: () => closeSync(fd),
  };
}
