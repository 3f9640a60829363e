import { type Fill, MAX_IN_FLIGHT, type UploadTransport } from './transport.js';

/** Bytes written before a submission is closed, so that coalescing stays bounded. */
const FLUSH_BYTES = 16 << 20;

/**
 * Uploads with `queue.writeBuffer`, keeping at most `maxInFlight` submissions (flushes, each of one or
 * more coalesced batches, at most `FLUSH_BYTES`) written but not yet done. Bytes that need no conversion go straight from the decoded Arrow buffer; converted ones pass
 * through one reused scratch buffer (`writeBuffer` copies at call time, so reuse is safe).
 */
export class WriteBufferTransport implements UploadTransport {
  readonly maxChunkBytes = 64 << 20;
  readonly writesGpu = true;
  readonly #queue: GPUQueue;
  readonly #limit: number;
  readonly #inFlight: Promise<void>[] = [];
  #scratch = new ArrayBuffer(0);
  #maxInFlight = 0;
  #waitMs = 0;
  #pendingBytes = 0;

  constructor(device: GPUDevice, maxInFlight = MAX_IN_FLIGHT) {
    this.#queue = device.queue;
    this.#limit = maxInFlight;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get inFlight(): number {
    return this.#inFlight.length;
  }

  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  get flushWouldStall(): boolean {
    return this.#inFlight.length >= this.#limit;
  }

  get waitMs(): number {
    return this.#waitMs;
  }

  async begin(bytes: number): Promise<void> {
    if (this.#pendingBytes + bytes > FLUSH_BYTES) this.flush();
    if (this.#scratch.byteLength < bytes)
      this.#scratch = new ArrayBuffer(Math.max(bytes, this.#scratch.byteLength * 2));
    if (this.#inFlight.length < this.#limit) return;
    const started = performance.now();
    await this.#inFlight[0];
    this.#waitMs += performance.now() - started;
  }

  write(dst: GPUBuffer, dstOffset: number, byteLength: number, fill: Fill): void {
    this.#pendingBytes += byteLength;
    fill(this.#scratch, 0);
    this.#queue.writeBuffer(dst, dstOffset, this.#scratch, 0, byteLength);
  }

  writeBytes(dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void {
    this.#pendingBytes += bytes.byteLength;
    this.#queue.writeBuffer(dst, dstOffset, bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }

  flush(): void {
    if (this.#pendingBytes === 0) return;
    this.#pendingBytes = 0;
    const done = this.#queue.onSubmittedWorkDone().then(() => {
      this.#inFlight.splice(this.#inFlight.indexOf(done), 1);
    });
    done.catch(() => {}); // surfaced by begin() or finish(); a cancelled load never awaits it
    this.#inFlight.push(done);
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight.length);
  }

  async finish(): Promise<void> {
    this.flush();
    const started = performance.now();
    await this.#queue.onSubmittedWorkDone();
    await Promise.all(this.#inFlight);
    this.#waitMs += performance.now() - started;
  }

  release(): void {}
}
