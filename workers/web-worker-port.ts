/// <reference lib="webworker" />

/** A started Web Worker as a port: messages both ways, and one call when it dies (decode and read workers). */
export interface WebWorkerPort<In, Out> {
  post(message: In, transfer?: ArrayBuffer[]): void;
  onMessage: ((message: Out) => void) | null;
  onFailure: ((reason: string) => void) | null;
  terminate(): void;
}

/** `worker` as a port; a worker that throws outside any work is ended and not trusted again. */
export function webWorkerPort<In, Out>(worker: Worker): WebWorkerPort<In, Out> {
  const port: WebWorkerPort<In, Out> = {
    post: (message, transfer = []) => worker.postMessage(message, transfer),
    onMessage: null,
    onFailure: null,
    terminate: () => worker.terminate(),
  };
  worker.onmessage = (event) => port.onMessage?.(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    worker.terminate();
    port.onFailure?.(event.message || 'it raised an uncaught error');
  };
  worker.onmessageerror = () => port.onFailure?.('a message from it could not be read');
  return port;
}
