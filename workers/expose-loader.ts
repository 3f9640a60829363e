import * as Comlink from 'comlink';
import type { DeviceChannel } from '../src/core/gpu/remote/device-channel.js';
import type { LoaderService } from '../src/core/service/loader-service.js';
import { type LoaderWorkerApi, registerErrorTransfer } from '../src/protocol.js';

/** The worker protocol over `service`; column bytes are transferred to the main thread, not copied. */
export function loaderApi(service: LoaderService): LoaderWorkerApi {
  return {
    init: (options, channel) => service.init(options, channel && transferring(channel)),
    remoteTable: (tableId) => service.remoteTable(tableId),
    deviceLost: (message) => service.deviceLost(message),
    adapterInfo: () => service.adapterInfo(),
    load: (request, onProgress) => service.load(request, onProgress),
    open: (request, onProgress, onUpdate) => service.open(request, onProgress, onUpdate),
    loaded: (loadId) => service.loaded(loadId),
    inspect: (request) => service.inspect(request),
    cancel: (loadId) => service.cancel(loadId),
    readColumn: async (tableId, name) => {
      const bytes = await service.readColumn(tableId, name);
      return Comlink.transfer(bytes, [bytes.buffer]);
    },
    readValidity: async (tableId, name) => {
      const buffer = await service.readValidity(tableId, name);
      return buffer ? Comlink.transfer(buffer, [buffer]) : null;
    },
    dictionary: (tableId, name) => service.dictionary(tableId, name),
    wgsl: (tableId, names, options) => service.wgsl(tableId, names, options),
    describe: (tableId, name, options) => service.describe(tableId, name, options),
    filter: (tableId, predicate) => service.filter(tableId, predicate),
    destroyFilter: (tableId, filterId) => service.destroyFilter(tableId, filterId),
    histogram: (tableId, name, options, query) => service.histogram(tableId, name, options, query),
    crossfilter: (tableId, options) => service.crossfilter(tableId, options),
    readRows: async (tableId, options, query) => {
      const buffer = await service.readRows(tableId, options, query);
      return Comlink.transfer(buffer, [buffer]);
    },
    destroyTable: (tableId) => service.destroyTable(tableId),
    render: (canvas, request) => service.render(canvas, request),
    updateView: (viewId, settings) => service.updateView(viewId, settings),
    resizeView: (viewId, width, height, pixelRatio) => service.resizeView(viewId, width, height, pixelRatio),
    destroyView: (viewId) => service.destroyView(viewId),
    memory: () => service.memory(),
    trim: () => service.trim(),
    close: () => service.close(),
    // Liveness is the transport's concern, not the service's: answered here, without touching it.
    ping: () => undefined,
  };
}

/** The caller's device channel, with each posted chunk transferred (not copied) to the caller's thread. */
function transferring(channel: DeviceChannel): DeviceChannel {
  return {
    create: (spec) => channel.create(spec),
    write: (bytes, writes, session) => channel.write(Comlink.transfer(bytes, [bytes]), writes, session),
    destroy: (ids) => channel.destroy(ids),
    done: (session) => channel.done(session),
    settled: (session) => channel.settled(session),
  };
}

/** Serves `api` to the page that started this worker. */
export function exposeLoader(api: LoaderWorkerApi): void {
  registerErrorTransfer();
  Comlink.expose(api);
}
