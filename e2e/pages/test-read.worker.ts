/// <reference lib="webworker" />
// The read worker with a crash hook, for the browser tests only: `{ type: 'crash' }` makes it throw
// outside any read, as a worker that fails would.
import { BodyCuts } from '../../src/core/ipc/body-cuts.js';
import type { FromReader, ToReader } from '../../src/core/source/read-worker/protocol.js';
import { serveReads } from '../../src/core/source/read-worker/read-host.js';
import { fetchSource } from '../../workers/fetch-source.js';

const post = (message: FromReader, transfer: ArrayBuffer[]) => self.postMessage(message, transfer);
const handle = serveReads(fetchSource, post, () => new BodyCuts());
self.onmessage = (event: MessageEvent<ToReader | { type: 'crash' }>) => {
  const message = event.data;
  if (message.type !== 'crash') return handle(message);
  setTimeout(() => {
    throw new Error('arrow-webgpu read worker crash requested by a test');
  });
};
