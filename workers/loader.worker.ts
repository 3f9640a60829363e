/// <reference lib="webworker" />
import { LoaderService } from '../src/core/service/loader-service.js';
import { exposeLoader, loaderApi } from './expose-loader.js';
import { fetchSource } from './fetch-source.js';
import { defaultDecodeWorkers, spawnWebDecodeWorker } from './web-decode-workers.js';
import { defaultReadWorker, spawnWebReadWorker, webReadWorkerSource } from './web-read-worker.js';

const cores = self.navigator.hardwareConcurrency;
const decodeWorkers = { spawn: spawnWebDecodeWorker, count: defaultDecodeWorkers(cores) };
const readWorker = webReadWorkerSource(spawnWebReadWorker, defaultReadWorker(cores));
exposeLoader(loaderApi(new LoaderService(self.navigator.gpu, fetchSource, { decodeWorkers, readWorker })));
