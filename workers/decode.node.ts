// A decode worker of the pool in Node (`worker_threads`): the same decode side as decode.worker.ts.
import { parentPort } from 'node:worker_threads';
import { serveDecoder } from '../src/core/pipeline/pool/decoder-host.js';
import type { ToDecoder } from '../src/core/pipeline/pool/protocol.js';

const port = parentPort;
if (!port) throw new Error('decode.node.ts runs as a worker thread');
const handle = serveDecoder((message, transfer) => port.postMessage(message, transfer));
port.on('message', (message: ToDecoder) => handle(message));
