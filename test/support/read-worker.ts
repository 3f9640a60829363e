import { MessageChannel } from 'node:worker_threads';
import type { ByteSource } from '../../src/core/source/byte-source.js';
import type { ChunkCuts } from '../../src/core/source/read-worker/chunk-cuts.js';
import type { ChunkStock } from '../../src/core/source/read-worker/chunk-stock.js';
import type { FromReader, ReadWorkerPort, ToReader } from '../../src/core/source/read-worker/protocol.js';
import { serveReads } from '../../src/core/source/read-worker/read-host.js';

/**
 * A read worker on the other end of a MessageChannel, as a Web Worker would be (buffers moved both
 * ways); `kill` ends it.
 */
export function channelReadWorker(
  open: (url: string, signal: AbortSignal) => Promise<ByteSource>,
  cuts?: () => ChunkCuts,
  stock?: ChunkStock,
) {
  const { port1, port2 } = new MessageChannel();
  const state = { signals: [] as AbortSignal[], spawned: 0 };
  const handle = serveReads(
    async (url, signal) => {
      state.signals.push(signal);
      return open(url, signal);
    },
    (message, transfer) => port2.postMessage(message, transfer),
    cuts,
    stock,
  );
  port2.on('message', (message: ToReader) => handle(message));
  const port: ReadWorkerPort = {
    post: (message, transfer = []) => port1.postMessage(message, transfer),
    onMessage: null,
    onFailure: null,
    terminate: () => {
      port1.close();
      port2.close();
    },
  };
  port1.on('message', (message: FromReader) => port.onMessage?.(message));
  return {
    state,
    spawn: () => {
      state.spawned++;
      return port;
    },
    kill: (reason: string) => port.onFailure?.(reason),
  };
}
