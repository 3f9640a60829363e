/// <reference lib="webworker" />
// A decode worker of the loader's pool: decodes and encodes record batches that the loader worker sends.
import { serveDecoder } from '../src/core/pipeline/pool/decoder-host.js';
import type { ToDecoder } from '../src/core/pipeline/pool/protocol.js';

const handle = serveDecoder((message, transfer) => self.postMessage(message, transfer));
self.onmessage = (event: MessageEvent<ToDecoder>) => handle(event.data);
