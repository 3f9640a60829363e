/// <reference lib="webworker" />
// The loader's read worker: fetches URLs and reads their responses while the loader's thread works.
import { BodyCuts } from '../src/core/ipc/body-cuts.js';
import type { FromReader, ToReader } from '../src/core/source/read-worker/protocol.js';
import { serveReads } from '../src/core/source/read-worker/read-host.js';
import { fetchSource } from './fetch-source.js';

// Large record batch bodies each come in a chunk of their own, which the loader takes without joining.
const post = (message: FromReader, transfer: ArrayBuffer[]) => self.postMessage(message, transfer);
const handle = serveReads(fetchSource, post, () => new BodyCuts());
self.onmessage = (event: MessageEvent<ToReader>) => handle(event.data);
