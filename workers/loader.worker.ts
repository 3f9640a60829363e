/// <reference lib="webworker" />
import { LoaderService } from '../src/core/service/loader-service.js';
import { exposeLoader, loaderApi } from './expose-loader.js';
import { fetchSource } from './fetch-source.js';

exposeLoader(loaderApi(new LoaderService(self.navigator.gpu, fetchSource)));
