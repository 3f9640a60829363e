/// <reference lib="webworker" />
import { LoaderService } from '../src/core/service/loader-service.js';
import type { OpenSource } from '../src/core/source/byte-source.js';
import { ReadWorkerClient } from '../src/core/source/read-worker/read-client.js';
import { exposeLoader, loaderApi } from './expose-loader.js';
import { fetchSource, tailReader } from './fetch-source.js';
import { defaultDecodeWorkers, spawnWebDecodeWorker } from './web-decode-workers.js';
import { defaultReadWorker, spawnWebReadWorker } from './web-read-worker.js';

const cores = self.navigator.hardwareConcurrency;
const decodeWorkers = { spawn: spawnWebDecodeWorker, count: defaultDecodeWorkers(cores) };
const reads = new ReadWorkerClient(spawnWebReadWorker);
/** A URL read on the read worker; a footer is still read here, by a Range request of its own. */
const openOnReadWorker: OpenSource = async (url, signal, options) => {
  const source = await reads.open(url, signal, options);
  return { ...source, readTail: tailReader(url, signal, options, source.bytesTotal) };
};
const readWorker = {
  open: openOnReadWorker,
  start: () => reads.start(),
  byDefault: defaultReadWorker(cores),
};
exposeLoader(loaderApi(new LoaderService(self.navigator.gpu, fetchSource, { decodeWorkers, readWorker })));
