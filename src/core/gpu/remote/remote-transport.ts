import { gpuFailure, type ScopedGpuError } from '../error-scope.js';
import { type Fill, MAX_IN_FLIGHT, type UploadTransport } from '../upload/transport.js';
import type { ChunkPool } from './chunk-pool.js';
import type { DeviceChannel, RemoteWrite, WrittenChunk } from './device-channel.js';
import { remoteIdOf } from './remote-buffer.js';

/** Bytes of one chunk posted to the caller's thread: large enough to amortize a post, small enough to write in slices. */
export const REMOTE_CHUNK_BYTES = 8 << 20;

/** A chunk being filled: its bytes, how far they are filled, and where each part goes. */
interface OpenChunk {
  bytes: ArrayBuffer;
  used: number;
  writes: RemoteWrite[];
}

/**
 * Uploads to a device on another thread: the uploader's bytes (encoded values, validity words) fill a
 * chunk from a pool of `slots` `ArrayBuffer`s, and each flush posts the chunk, transferred, with its
 * list of writes; the caller's thread writes it into its buffers and hands it back. At most `slots`
 * chunks exist at once, so memory stays bounded whatever the table's size.
 */
export class RemoteTransport implements UploadTransport {
  readonly maxChunkBytes: number;
  readonly writesGpu = false;
  readonly #channel: DeviceChannel;
  readonly #slots: number;
  readonly #free: ArrayBuffer[] = [];
  readonly #posted = new Set<Promise<void>>();
  #made = 0;
  #open: OpenChunk | null = null;
  #failure: ScopedGpuError | null = null;
  #pendingBytes = 0;
  #maxInFlight = 0;
  #waitMs = 0;
  /** Where chunks come from before new ones are made, and go once the load no longer needs them. */
  readonly #pool: ChunkPool | null;
  /** The load finished or was released: chunks coming back go to the pool. */
  #ended = false;
  /** Chunks made new (not taken from the pool). */
  chunksMade = 0;

  readonly #session: number;

  /**
   * `session` names this transport's writes (one load's), so that their errors are told to it alone;
   * `pool` holds chunks between loads.
   */
  constructor(
    channel: DeviceChannel,
    session: number,
    chunkBytes = REMOTE_CHUNK_BYTES,
    slots = MAX_IN_FLIGHT,
    pool: ChunkPool | null = null,
  ) {
    this.#channel = channel;
    this.#session = session;
    this.maxChunkBytes = chunkBytes;
    this.#slots = slots;
    this.#pool = pool?.chunkBytes === chunkBytes ? pool : null;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get inFlight(): number {
    return this.#posted.size;
  }

  get flushWouldStall(): boolean {
    return this.#free.length === 0 && this.#made >= this.#slots && this.#posted.size > 0;
  }

  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  get waitMs(): number {
    return this.#waitMs;
  }

  async begin(bytes: number): Promise<void> {
    this.#throwIfFailed();
    const open = this.#open;
    if (open && open.used + bytes <= open.bytes.byteLength) return;
    this.flush();
    this.#open = { bytes: await this.#take(), used: 0, writes: [] };
    this.#throwIfFailed();
  }

  write(dst: GPUBuffer, dstOffset: number, byteLength: number, fill: Fill): void {
    const open = this.#room(byteLength);
    fill(open.bytes, open.used);
    this.#add(open, dst, dstOffset, byteLength);
  }

  writeBytes(dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void {
    const open = this.#room(bytes.byteLength);
    new Uint8Array(open.bytes, open.used, bytes.byteLength).set(bytes);
    this.#add(open, dst, dstOffset, bytes.byteLength);
  }

  flush(): void {
    const open = this.#open;
    if (!open || open.writes.length === 0) return;
    this.#open = null;
    this.#pendingBytes = 0;
    const posted: Promise<void> = this.#channel
      .write(open.bytes, open.writes, this.#session)
      .then((written) => this.#returned(written))
      .catch((reason: unknown) => {
        this.#failure ??= { kind: 'validation', message: `the caller's thread did not write: ${reason}` };
      })
      .finally(() => this.#posted.delete(posted));
    this.#posted.add(posted);
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#posted.size);
  }

  async finish(): Promise<void> {
    this.flush();
    const started = performance.now();
    await Promise.all(this.#posted);
    this.#end();
    const error = await this.#channel.done(this.#session);
    this.#failure ??= error;
    this.#waitMs += performance.now() - started;
    this.#throwIfFailed();
  }

  /**
   * Resolves once the caller's device has done the chunks posted so far; rejects with the first error
   * this load's writes raised, which the caller's thread knows only once it has done them.
   */
  async landed(): Promise<void> {
    const error = await this.#channel.settled(this.#session);
    this.#failure ??= error;
    this.#throwIfFailed();
  }

  /** Drops the chunk being filled; posted ones come back to a transport no one uses. */
  release(): void {
    this.#open = null;
    this.#end();
    void this.#channel.done(this.#session).catch(() => {}); // forgets the load's writes there
  }

  /** A free chunk, made while fewer than `slots` exist, else the first one the caller's thread hands back. */
  async #take(): Promise<ArrayBuffer> {
    const started = performance.now();
    while (this.#free.length === 0 && this.#made >= this.#slots && this.#posted.size > 0) {
      await Promise.race(this.#posted);
    }
    this.#waitMs += performance.now() - started;
    const free = this.#free.pop();
    if (free) return free;
    this.#made++;
    const kept = this.#pool?.take();
    if (kept) return kept;
    this.chunksMade++;
    return new ArrayBuffer(this.maxChunkBytes);
  }

  #returned({ bytes, error }: WrittenChunk): void {
    if (error) this.#failure ??= error;
    if (this.#ended) this.#pool?.give(bytes);
    else if (bytes.byteLength === this.maxChunkBytes) this.#free.push(bytes);
    else this.#made--; // detached or foreign: make another when needed
  }

  /** The load needs no more chunks: those free now, and those still coming back, go to the pool. */
  #end(): void {
    this.#ended = true;
    for (const bytes of this.#free.splice(0)) this.#pool?.give(bytes);
  }

  #room(byteLength: number): OpenChunk {
    const open = this.#open;
    if (!open || open.used + byteLength > open.bytes.byteLength) {
      throw new RangeError(`a write of ${byteLength} bytes was not announced by begin()`);
    }
    return open;
  }

  #add(open: OpenChunk, dst: GPUBuffer, dstOffset: number, byteLength: number): void {
    open.writes.push({ id: remoteIdOf(dst), dstOffset, srcOffset: open.used, byteLength });
    open.used += byteLength;
    this.#pendingBytes += byteLength;
  }

  #throwIfFailed(): void {
    if (this.#failure) throw gpuFailure(this.#failure, "writing column values on the caller's device");
  }
}
