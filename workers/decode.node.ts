// A decode worker of the pool in Node (`worker_threads`): the same decode side as decode.worker.ts.
import { parentPort } from 'node:worker_threads';
import { serveDecoder } from '../src/core/pipeline/pool/decoder-host.js';
import type { FromDecoder, ToDecoder } from '../src/core/pipeline/pool/protocol.js';
import { openNodeBodyFile } from './node-body-file.js';

const port = parentPort;
if (!port) throw new Error('decode.node.ts runs as a worker thread');
// Bodies the loader skipped (a file source) are read here, by each worker at once.
const post = (message: FromDecoder, transfer: ArrayBuffer[]) => port.postMessage(message, transfer);
const handle = serveDecoder(post, { openBodyFile: openNodeBodyFile });
port.on('message', (message: ToDecoder) => handle(message));
