import type { OpenSource } from '../byte-source.js';
import { type ChunkCuts, NO_CUTS } from './chunk-cuts.js';
import { HostedRead, type PostToLoader } from './hosted-read.js';
import type { ToReader } from './protocol.js';

/**
 * The read worker's side: opens each requested URL with `openSource` and reads it for the loader, its
 * chunks cut by a new `cuts()` for each. Returns the handler of the loader's messages.
 */
export function serveReads(
  openSource: OpenSource,
  post: PostToLoader,
  cuts: () => ChunkCuts = () => NO_CUTS,
): (message: ToReader) => void {
  const reads = new Map<number, HostedRead>();
  return (message) => {
    switch (message.type) {
      case 'open': {
        const read = new HostedRead(message.id, post, message.maxBytes, cuts());
        reads.set(message.id, read);
        const { url, timeoutMs, request } = message;
        const options = request ? { timeoutMs, request } : { timeoutMs };
        void read.run(() => openSource(url, read.signal, options)).finally(() => reads.delete(message.id));
        return;
      }
      case 'pull':
        reads.get(message.id)?.pull();
        return;
      case 'cancel':
        reads.get(message.id)?.cancel();
        reads.delete(message.id);
        return;
    }
  };
}
