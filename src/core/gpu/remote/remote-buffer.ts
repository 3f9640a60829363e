/**
 * Stands in, in the worker, for a buffer made on the caller's device: uploads name it by `id`, and
 * `destroy` destroys the real one there.
 */
export class RemoteBuffer {
  constructor(
    readonly id: number,
    readonly size: number,
    readonly label: string,
    readonly usage: GPUBufferUsageFlags,
    readonly onDestroy: (id: number) => void,
  ) {}

  destroy(): void {
    this.onDestroy(this.id);
  }
}

/** The id of a buffer made by a `RemoteDevice`; a `TypeError` for any other buffer. */
export function remoteIdOf(buffer: GPUBuffer): number {
  const remote = buffer as unknown;
  if (remote instanceof RemoteBuffer) return remote.id;
  throw new TypeError(`${buffer.label || 'a buffer'} is not on the caller's device`);
}
