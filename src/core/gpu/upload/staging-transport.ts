import { alignUp } from '../../columns/type-plan.js';
import type { GpuErrorWatch } from '../error-scope.js';
import { MAX_STAGING_BYTES, type StagedCopy, type StagingRing, type StagingSlot } from './staging-ring.js';
import type { Fill, ReadSource, UploadTransport } from './transport.js';

/**
 * A read from the source into a slot is split into pieces of at most this many bytes, read at once on
 * other threads: one thread's read out of the page cache would otherwise pace the upload.
 */
const READ_PIECE_BYTES = 2 << 20;

/**
 * Fills mapped staging buffers from a shared `StagingRing`. Consecutive batches coalesce into one slot
 * until it is full or the uploader flushes, so small batches do not cost one submit each. Made with a
 * `ReadSource`, it also reads words straight from the source into a slot (`writeFromSource`): the slot
 * is submitted once those reads are done, and given back unsubmitted if one fails or the load ends.
 */
export class StagingTransport implements UploadTransport {
  readonly maxChunkBytes = MAX_STAGING_BYTES;
  readonly writesGpu = false;
  readonly #ring: StagingRing;
  readonly #device: GPUDevice;
  readonly #signal: AbortSignal | undefined;
  readonly #watch: GpuErrorWatch;
  #slot: StagingSlot | null = null;
  #used = 0;
  #copies: StagedCopy[] = [];
  #pending: Promise<void>[] = [];
  #maxInFlight = 0;
  #waitMs = 0;
  /** No slot was asked for yet: the first batch takes any slot that fits it (see `StagingRing.prepare`). */
  #first = true;
  readonly #readSource: ReadSource | null;
  /** Reads from the source into the slot being filled. */
  #reads: Promise<void>[] = [];
  /** Every slot's reads not yet settled. */
  readonly #reading = new Set<Promise<unknown>>();
  /** The first read from the source that failed. */
  #failure: { error: unknown } | null = null;
  #released = false;
  /** Slots flushed and waiting for their reads or their turn. */
  #waiting = 0;
  /** Resolves once the last slot flushed was submitted (or given back). */
  #turn: Promise<void> = Promise.resolve();
  /** Bytes read from the source straight into staging memory. */
  bytesFromSource = 0;

  /** The copies of each submission report their GPU errors into `watch`; `readSource` reads the source. */
  constructor(
    device: GPUDevice,
    ring: StagingRing,
    watch: GpuErrorWatch,
    signal?: AbortSignal,
    readSource?: ReadSource,
  ) {
    this.#device = device;
    this.#ring = ring;
    this.#watch = watch;
    this.#signal = signal;
    this.#readSource = readSource ?? null;
    if (readSource) {
      this.writeFromSource = this.#writeFromSource;
      this.landed = this.#landed;
    }
  }

  writeFromSource?: (dst: GPUBuffer, dstOffset: number, position: number, byteLength: number) => void;
  landed?: () => Promise<void>;

  /** A slot flushed may still wait for its reads before it is submitted: done once it is, and copied. */
  readonly #landed = async (): Promise<void> => {
    await Promise.all(this.#pending);
    await this.#device.queue.onSubmittedWorkDone();
  };

  get inFlight(): number {
    return this.#ring.inFlight;
  }

  get flushWouldStall(): boolean {
    return this.#ring.freeSlots === 0;
  }

  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  get pendingBytes(): number {
    return this.#copies.length > 0 ? this.#used : 0;
  }

  get waitMs(): number {
    return this.#waitMs;
  }

  async begin(bytes: number): Promise<void> {
    if (this.#failure) throw this.#failure.error;
    if (this.#slot && this.#used + bytes <= this.#slot.mapped.byteLength) return;
    this.flush();
    const started = performance.now();
    const first = this.#first;
    this.#first = false;
    this.#slot = await this.#ring.acquire(bytes, this.#signal, first);
    this.#waitMs += performance.now() - started;
    this.#used = 0;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#ring.inFlight);
  }

  write(dst: GPUBuffer, dstOffset: number, byteLength: number, fill: Fill): void {
    const slot = this.#slot as StagingSlot;
    const srcOffset = this.#used;
    fill(slot.mapped, srcOffset);
    this.#used = alignUp(srcOffset + byteLength);
    const last = this.#copies[this.#copies.length - 1];
    if (
      last &&
      last.dst === dst &&
      last.srcOffset + last.size === srcOffset &&
      last.dstOffset + last.size === dstOffset
    ) {
      last.size += byteLength; // contiguous in both buffers: one copy command
    } else {
      this.#copies.push({ dst, dstOffset, srcOffset, size: byteLength });
    }
  }

  writeBytes(dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void {
    this.write(dst, dstOffset, bytes.byteLength, (target, offset) => {
      new Uint8Array(target, offset, bytes.byteLength).set(bytes);
    });
  }

  #writeFromSource(dst: GPUBuffer, dstOffset: number, position: number, byteLength: number): void {
    const read = this.#readSource as ReadSource;
    this.write(dst, dstOffset, byteLength, (target, offset) => {
      for (let done = 0; done < byteLength; done += READ_PIECE_BYTES) {
        const n = Math.min(READ_PIECE_BYTES, byteLength - done);
        const reading = read(new Uint8Array(target, offset + done, n), position + done);
        reading.catch(() => {}); // seen once the slot's reads settle (`#submitInTurn`)
        this.#reads.push(reading);
      }
    });
    this.bytesFromSource += byteLength;
  }

  flush(): void {
    const slot = this.#slot;
    if (!slot) return;
    this.#slot = null;
    const reads = this.#takeReads(slot);
    if (this.#copies.length === 0) {
      this.#ring.release(slot);
      return;
    }
    const copies = this.#copies;
    const submit = () =>
      this.#watch.run('copying staged column bytes', {}, () => this.#ring.submit(slot, copies));
    // A slot waits for its reads, and for the slots flushed before it: a later write wins only if it lands last.
    const inTurn = reads !== null || this.#waiting > 0;
    const done = inTurn ? this.#submitInTurn(reads, slot, submit) : submit();
    done.catch(() => {}); // surfaced by finish() or the next acquire
    this.#pending.push(done);
    if (this.#pending.length > this.#ring.size) this.#pending.shift();
    this.#copies = [];
  }

  /** The slot's reads from the source, settled together (null when none), marked on the ring. */
  #takeReads(slot: StagingSlot): Promise<PromiseSettledResult<void>[]> | null {
    if (this.#reads.length === 0) return null;
    const settled = Promise.allSettled(this.#reads);
    this.#reads = [];
    this.#reading.add(settled);
    void settled.then(() => this.#reading.delete(settled));
    this.#ring.writtenUntil(slot, settled);
    return settled;
  }

  /**
   * Submits `slot` once its reads are in and every slot flushed before it is submitted (the words at a
   * piece's edges are written twice, and the later write must land last); gives it back unsubmitted
   * when a read failed or the load ended.
   */
  async #submitInTurn(
    reads: Promise<PromiseSettledResult<void>[]> | null,
    slot: StagingSlot,
    submit: () => Promise<void>,
  ): Promise<void> {
    const turn = this.#turn;
    let next: () => void = () => {};
    this.#turn = new Promise<void>((resolve) => {
      next = resolve;
    });
    this.#waiting++;
    try {
      const failed = (reads ? await reads : []).find((r) => r.status === 'rejected');
      await turn;
      if (failed) this.#failure ??= { error: failed.reason };
      if (this.#failure || this.#released) {
        this.#ring.release(slot);
        if (failed) throw failed.reason;
        return;
      }
      return submit(); // submitted now; the promise is the slot's mapping again
    } finally {
      this.#waiting--;
      next();
    }
  }

  async finish(): Promise<void> {
    this.flush();
    const started = performance.now();
    await Promise.all(this.#pending);
    await this.#device.queue.onSubmittedWorkDone();
    this.#waitMs += performance.now() - started;
    if (this.#failure) throw this.#failure.error;
  }

  release(): void {
    this.#released = true;
    const slot = this.#slot;
    this.#slot = null;
    this.#copies = [];
    if (!slot) return;
    const reads = this.#takeReads(slot);
    if (reads) void reads.then(() => this.#ring.release(slot));
    else this.#ring.release(slot);
  }

  /** Resolves once no read from the source still writes into a slot (after `release`, before closing it). */
  async settled(): Promise<void> {
    while (this.#reading.size > 0) await Promise.all(this.#reading);
  }
}
