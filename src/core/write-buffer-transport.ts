import type { Fill, UploadTransport } from './upload-transport.js';

/**
 * Uploads with `queue.writeBuffer`, keeping at most `maxBatchesInFlight` batches submitted but not yet
 * done. Bytes that need no conversion go straight from the decoded Arrow buffer; converted ones pass
 * through one reused scratch buffer (`writeBuffer` copies at call time, so reuse is safe).
 */
export class WriteBufferTransport implements UploadTransport {
  readonly maxChunkBytes = 64 << 20;
  readonly #queue: GPUQueue;
  readonly #limit: number;
  readonly #inFlight: Promise<void>[] = [];
  #scratch = new ArrayBuffer(0);
  #maxInFlight = 0;
  #waitMs = 0;

  constructor(device: GPUDevice, maxBatchesInFlight = 2) {
    this.#queue = device.queue;
    this.#limit = maxBatchesInFlight;
  }

  get inFlight(): number {
    return this.#inFlight.length;
  }

  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  get waitMs(): number {
    return this.#waitMs;
  }

  async begin(bytes: number): Promise<void> {
    if (this.#scratch.byteLength < bytes)
      this.#scratch = new ArrayBuffer(Math.max(bytes, this.#scratch.byteLength * 2));
    if (this.#inFlight.length < this.#limit) return;
    const started = performance.now();
    await this.#inFlight[0];
    this.#waitMs += performance.now() - started;
  }

  write(dst: GPUBuffer, dstOffset: number, byteLength: number, fill: Fill): void {
    fill(this.#scratch, 0);
    this.#queue.writeBuffer(dst, dstOffset, this.#scratch, 0, byteLength);
  }

  writeBytes(dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void {
    this.#queue.writeBuffer(dst, dstOffset, bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }

  endBatch(): void {
    const done = this.#queue.onSubmittedWorkDone().then(() => {
      this.#inFlight.splice(this.#inFlight.indexOf(done), 1);
    });
    this.#inFlight.push(done);
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight.length);
  }

  flush(): void {}

  async finish(): Promise<void> {
    const started = performance.now();
    await this.#queue.onSubmittedWorkDone();
    await Promise.all(this.#inFlight);
    this.#waitMs += performance.now() - started;
  }

  release(): void {}
}
