import type { Fill, UploadTransport } from './transport.js';

/**
 * Staging for batches that come back to back, `writeBuffer` for a batch that comes alone. A batch with
 * none behind it (a live stream between its batches) shares its submit with nothing, and a staging slot
 * would cost it the map and unmap of a whole slot (16 MiB copied through the GPU process each way, for
 * a few hundred KiB of rows); `writeBuffer` moves only its bytes. Batches that queue up still coalesce
 * in staging slots.
 *
 * Order on the device queue holds across the switch: staged copies not yet submitted are submitted
 * before the first direct write, and direct writes are queue operations, ordered before any later submit.
 */
export class LoneBatchTransport implements UploadTransport {
  readonly #staged: UploadTransport;
  readonly #direct: UploadTransport;
  #current: UploadTransport;

  /** `staged` takes batches that queue up; `direct` (a `WriteBufferTransport`) takes lone ones. */
  constructor(staged: UploadTransport, direct: UploadTransport) {
    this.#staged = staged;
    this.#direct = direct;
    this.#current = staged;
  }

  /** Where the next batch's bytes go: `writeBuffer` when it comes alone (`lone`), else staging. */
  nextBatch(lone: boolean): void {
    const next = lone ? this.#direct : this.#staged;
    if (next === this.#current) return;
    // Staged copies still held must reach the queue before direct writes that may touch the same words.
    if (lone) this.#staged.flush();
    this.#current = next;
  }

  /** Whether the batch being written goes through `writeBuffer`. */
  get direct(): boolean {
    return this.#current === this.#direct;
  }

  get writesGpu(): boolean {
    return this.#current.writesGpu;
  }

  get maxChunkBytes(): number {
    return Math.min(this.#staged.maxChunkBytes, this.#direct.maxChunkBytes);
  }

  get pendingBytes(): number {
    return this.#staged.pendingBytes + this.#direct.pendingBytes;
  }

  get inFlight(): number {
    return this.#staged.inFlight + this.#direct.inFlight;
  }

  get flushWouldStall(): boolean {
    return this.#current.flushWouldStall;
  }

  get maxInFlight(): number {
    return Math.max(this.#staged.maxInFlight, this.#direct.maxInFlight);
  }

  get waitMs(): number {
    return this.#staged.waitMs + this.#direct.waitMs;
  }

  begin(bytes: number): Promise<void> {
    return this.#current.begin(bytes);
  }

  write(dst: GPUBuffer, dstOffset: number, byteLength: number, fill: Fill): void {
    this.#current.write(dst, dstOffset, byteLength, fill);
  }

  writeBytes(dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void {
    this.#current.writeBytes(dst, dstOffset, bytes);
  }

  flush(): void {
    this.#staged.flush();
    this.#direct.flush();
  }

  async finish(): Promise<void> {
    await this.#staged.finish();
    await this.#direct.finish();
  }

  release(): void {
    this.#staged.release();
    this.#direct.release();
  }
}
