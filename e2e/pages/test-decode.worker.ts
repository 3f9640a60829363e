/// <reference lib="webworker" />
// The decode worker with one test hook, for the browser tests only: a `crash` message makes it throw
// outside any work, as a worker that dies does.
import { serveDecoder } from '../../src/core/pipeline/pool/decoder-host.js';
import type { ToDecoder } from '../../src/core/pipeline/pool/protocol.js';

const handle = serveDecoder((message, transfer) => self.postMessage(message, transfer));
self.onmessage = (event: MessageEvent<ToDecoder | { type: 'crash' }>) => {
  const message = event.data;
  if (message.type !== 'crash') return handle(message);
  setTimeout(() => {
    throw new Error('decode worker crash requested by a test');
  });
};
