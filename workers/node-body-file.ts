import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import type { BodyFile } from '../src/core/pipeline/pool/protocol.js';
import type { BodyFileSpec } from '../src/core/source/byte-source.js';

/** What identifies a file's contents as a load saw them: device, inode, size and modification time. */
export function fileStamp(stats: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs'>): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

/**
 * A file as a decode worker reads deferred bodies from it: positioned reads, synchronous (they block
 * only this worker, and several workers read at once), looped until the target is full or the file ends.
 * Throws when the file at `file.path` is no longer the one the load opened (replaced, or written to).
 */
export function openNodeBodyFile(file: BodyFileSpec): BodyFile {
  const fd = openSync(file.path, 'r');
  const stamp = fileStamp(fstatSync(fd));
  if (stamp !== file.stamp) {
    closeSync(fd);
    throw new Error(`the file changed since the load opened it (${stamp}, expected ${file.stamp})`);
  }
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
