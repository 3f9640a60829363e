import type { OpenSource } from '../byte-source.js';
import { type ChunkCuts, NO_CUTS } from './chunk-cuts.js';
import { ChunkStock } from './chunk-stock.js';
import { HostedRead, type PostToLoader } from './hosted-read.js';
import type { ToReader } from './protocol.js';

/**
 * The read worker's side: opens each requested URL with `openSource` and reads it for the loader, its
 * chunks cut by a new `cuts()` for each, and copied into the buffers the loader gave back when there
 * are some of their size (`stock`, emptied once no read is under way). Returns the handler of the loader's messages.
 */
export function serveReads(
  openSource: OpenSource,
  post: PostToLoader,
  cuts: () => ChunkCuts = () => NO_CUTS,
  stock = new ChunkStock(),
): (message: ToReader) => void {
  const reads = new Map<number, HostedRead>();
  const ended = (id: number) => {
    reads.delete(id);
    if (reads.size === 0) stock.clear(); // an idle worker holds no spare memory
  };
  return (message) => {
    switch (message.type) {
      case 'open': {
        const { maxBytes, pullBytes } = message;
        const read = new HostedRead(message.id, post, { maxBytes, pullBytes }, cuts(), stock);
        reads.set(message.id, read);
        const { url, timeoutMs, request } = message;
        const options = request ? { timeoutMs, request } : { timeoutMs };
        void read.run(() => openSource(url, read.signal, options)).finally(() => ended(message.id));
        return;
      }
      case 'recycle':
        if (reads.size > 0) stock.give(message.buffers);
        return;
      case 'pull':
        reads.get(message.id)?.pull(message.starving, message.received);
        return;
      case 'cancel':
        reads.get(message.id)?.cancel();
        ended(message.id);
        return;
    }
  };
}
