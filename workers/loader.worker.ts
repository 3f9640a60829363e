/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { LoaderService } from '../src/core/loader-service.js';
import { type LoaderWorkerApi, registerErrorTransfer } from '../src/protocol.js';
import { fetchSource } from './fetch-source.js';

registerErrorTransfer();

const service = new LoaderService(self.navigator.gpu, fetchSource);

// Column bytes are transferred to the main thread, not copied.
const api: LoaderWorkerApi = {
  init: (options) => service.init(options),
  adapterInfo: () => service.adapterInfo(),
  load: (request, onProgress) => service.load(request, onProgress),
  cancel: (loadId) => service.cancel(loadId),
  readColumn: async (tableId, name) => {
    const bytes = await service.readColumn(tableId, name);
    return Comlink.transfer(bytes, [bytes.buffer]);
  },
  readValidity: async (tableId, name) => {
    const buffer = await service.readValidity(tableId, name);
    return buffer ? Comlink.transfer(buffer, [buffer]) : null;
  },
  destroyTable: (tableId) => service.destroyTable(tableId),
  memory: () => service.memory(),
  close: () => service.close(),
  loseDevice: () => service.loseDevice(),
  crash: () => service.crash(),
};

Comlink.expose(api);
