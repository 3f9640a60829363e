/// <reference lib="webworker" />
import { LoaderService } from '../src/core/service/loader-service.js';
import { exposeLoader, loaderApi } from './expose-loader.js';
import { fetchSource } from './fetch-source.js';
import { defaultDecodeWorkers, spawnWebDecodeWorker } from './web-decode-workers.js';

const decodeWorkers = {
  spawn: spawnWebDecodeWorker,
  count: defaultDecodeWorkers(self.navigator.hardwareConcurrency),
};
exposeLoader(loaderApi(new LoaderService(self.navigator.gpu, fetchSource, { decodeWorkers })));
