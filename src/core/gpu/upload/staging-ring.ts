import type { BufferTracker } from '../buffer-tracker.js';
import { MAX_IN_FLIGHT } from './transport.js';

/** One mapped staging buffer handed out by the ring. */
export interface StagingSlot {
  readonly buffer: GPUBuffer;
  /** The whole mapped range, valid until the slot is submitted or released. */
  readonly mapped: ArrayBuffer;
}

/** A copy from a staging slot to a destination buffer. */
export interface StagedCopy {
  dst: GPUBuffer;
  dstOffset: number;
  srcOffset: number;
  size: number;
}

interface Slot {
  buffer: GPUBuffer | null;
  mapped: ArrayBuffer | null;
  state: 'free' | 'held' | 'pending';
  /** Made by `prepare` and not handed out since. */
  prepared?: boolean;
}

/**
 * Upper bound of one staging buffer; larger batches are split into row chunks. Each mapping is an
 * ArrayBuffer that the JS engine counts as external memory: two mapped buffers of 64 MiB swing it past
 * V8's allowance on every map and force a collection each time, while 16 MiB moves as fast.
 */
export const MAX_STAGING_BYTES = 16 << 20;

/** Lower bound of one staging buffer, so that small batches coalesce into few submits. */
export const MIN_STAGING_BYTES = 16 << 20;

/**
 * A fixed ring of `MAP_WRITE | COPY_SRC` buffers shared by every load on a device. A slot is filled
 * through its mapped range, unmapped, copied with `copyBufferToBuffer`, submitted, and mapped again with
 * `mapAsync`; a caller that finds no mapped slot waits. Slots grow (never per batch once warm) to fit
 * the largest chunk asked for.
 */
export class StagingRing {
  readonly #device: GPUDevice;
  readonly #tracker: BufferTracker;
  readonly #slots: Slot[];
  readonly #waiters: Array<() => void> = [];
  #failure: unknown = null;
  /** A slot being made ahead of its first use (see `prepare`). */
  #preparing: Promise<void> | null = null;
  /** Slots being made beside it, for the batches after a load's first (see `prepareSpare`). */
  readonly #spares = new Set<Promise<void>>();
  /** Slots submitted and not yet mapped again. */
  readonly #remaps = new Set<Promise<void>>();
  /** Most slots ever held or pending at once. */
  maxInFlight = 0;
  /**
   * The smallest buffer a slot is made with (a power of two, at most `MAX_STAGING_BYTES`). Every submit
   * unmaps and maps again the whole buffer, which the browser copies through its GPU process each way:
   * a ring that is handed chunks of a known size (the caller's device, `REMOTE_CHUNK_BYTES`) makes its
   * buffers that size, not larger.
   */
  readonly minSlotBytes: number;

  constructor(
    device: GPUDevice,
    tracker: BufferTracker,
    slots = MAX_IN_FLIGHT,
    minSlotBytes = MIN_STAGING_BYTES,
  ) {
    this.#device = device;
    this.#tracker = tracker;
    this.#slots = Array.from({ length: slots }, () => ({ buffer: null, mapped: null, state: 'free' }));
    this.minSlotBytes = Math.min(MAX_STAGING_BYTES, minSlotBytes);
  }

  /** Slots held by a writer or waiting for the GPU. */
  get inFlight(): number {
    return this.#slots.filter((s) => s.state !== 'free').length;
  }

  /** Slots free to acquire now (mapped, or not made yet). */
  get freeSlots(): number {
    return this.#slots.filter((s) => s.state === 'free').length;
  }

  /** Whether a slot has a buffer (mapped, held, or waiting for the GPU), not counting one being made. */
  get warm(): boolean {
    return this.#slots.some((s) => s.buffer !== null);
  }

  /** Whether the ring failed (destroyed, or a buffer failed to map again): `acquire` and `submit` reject. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /** Resolves once every slot submitted so far is mapped again (or failed to be), so that `trim` finds it free. */
  async remapped(): Promise<void> {
    await Promise.allSettled([...this.#remaps]);
  }

  /** Number of slots (the in-flight bound). */
  get size(): number {
    return this.#slots.length;
  }

  /**
   * Makes a slot's buffer of at least `minBytes` (and `floor`) now, in the background, unless a slot
   * has one: a load calls this once its first batch's header tells the bytes that batch needs, so that
   * the batch does not wait for a staging buffer to be made (a cold loader has none). A small `floor`
   * keeps a small load from making a buffer far larger than it needs.
   */
  prepare(minBytes = this.minSlotBytes, floor = this.minSlotBytes): void {
    if (this.#failure) return;
    const wanted = Math.min(MAX_STAGING_BYTES, minBytes);
    const next = (this.#preparing ?? Promise.resolve()).then(() => this.#prepareOne(wanted, floor));
    this.#preparing = next;
    void next.finally(() => {
      if (this.#preparing === next) this.#preparing = null;
    });
  }

  /** Makes a free slot's buffer hold `wanted` bytes, unless some slot's buffer already does. */
  async #prepareOne(wanted: number, floor: number): Promise<void> {
    if (this.#failure || this.#slots.some((s) => s.buffer && s.buffer.size >= wanted)) return;
    const free = this.#slots.filter((s) => s.state === 'free');
    // An empty slot first: a smaller buffer already made stays for the batches it fits.
    const slot = free.find((s) => !s.buffer) ?? free[0];
    if (!slot) return;
    slot.state = 'held';
    try {
      await this.#fit(slot, wanted, floor);
      slot.prepared = true;
    } catch {
      // The load's own acquire meets the same failure and reports it.
    } finally {
      this.#release(slot);
    }
  }

  /**
   * Makes a full buffer (`minSlotBytes`) for a free slot that has none, in the background and apart from
   * `prepare`'s slot, which `acquire` waits for: the batch at hand waits for this one only if it needs its
   * slot. A large load on a cold ring calls it after `prepare` at its first header, so that its second
   * batch finds a staging buffer made while the first one's body arrived, not one made only once that
   * batch was copied.
   */
  prepareSpare(): void {
    const slot = this.#slots.find((s) => s.state === 'free' && !s.buffer);
    if (this.#failure || !slot) return;
    slot.state = 'held';
    const making: Promise<void> = this.#fit(slot, this.minSlotBytes, this.minSlotBytes)
      .then(
        () => {
          slot.prepared = true;
        },
        () => {}, // a load's own acquire meets the same failure and reports it
      )
      .finally(() => {
        this.#spares.delete(making);
        this.#release(slot);
      });
    this.#spares.add(making);
  }

  /** Resolves once no slot is being prepared (so that `trim` finds it free). */
  async prepared(): Promise<void> {
    await this.#preparing;
    await Promise.all(this.#spares);
  }

  /**
   * Destroys a slot that `prepare` made and no load has used since: a load that fails before its first
   * batch leaves nothing behind.
   */
  async discardPrepared(): Promise<void> {
    await this.prepared();
    for (const slot of this.#slots) {
      if (!slot.prepared || slot.state !== 'free' || !slot.buffer) continue;
      this.#tracker.destroy(slot.buffer);
      Object.assign(slot, { buffer: null, mapped: null, prepared: false });
    }
  }

  /**
   * Waits for a mapped slot of at least `minBytes` (capped at `MAX_STAGING_BYTES`) and holds it. A slot
   * smaller than `minSlotBytes` is made larger, unless `anyThatFits` (a load's first batch, which
   * takes the slot prepared for it as it is); a buffer made here is never smaller than that.
   */
  async acquire(minBytes: number, signal?: AbortSignal, anyThatFits = false): Promise<StagingSlot> {
    // A slot being prepared is ready sooner than one made from nothing.
    if (this.#preparing) await this.#preparing;
    for (;;) {
      if (this.#failure) throw this.#failure;
      signal?.throwIfAborted();
      const free = this.#slots.filter((s) => s.state === 'free');
      // What `#fit` would make of the slot: a slot already that large is taken before one to remake.
      const wanted = Math.min(
        MAX_STAGING_BYTES,
        anyThatFits ? minBytes : Math.max(minBytes, this.minSlotBytes),
      );
      const fitting = free.filter((s) => s.buffer && s.buffer.size >= wanted);
      // A load's first batch takes the smallest that fits (the slot prepared for it), leaving a full one
      // (`prepareSpare`) to the batches after it.
      const slot = (anyThatFits ? smallest(fitting) : fitting[0]) ?? free.find((s) => s.buffer) ?? free[0];
      if (slot) {
        slot.state = 'held';
        slot.prepared = false;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          const fits = slot.buffer !== null && slot.buffer.size >= wanted;
          await this.#fit(slot, minBytes, anyThatFits && fits ? 0 : this.minSlotBytes);
        } catch (error) {
          this.#release(slot);
          throw error;
        }
        return slot as StagingSlot;
      }
      await this.#nextFree(signal);
    }
  }

  /** Unmaps `slot`, copies from it as listed, submits, and maps it again in the background. */
  submit(held: StagingSlot, copies: readonly StagedCopy[]): Promise<void> {
    // Destroyed while the slot waited for reads into it (a device lost): its buffer is gone.
    if (this.#failure) return Promise.reject(this.#failure);
    const slot = this.#own(held);
    const buffer = slot.buffer as GPUBuffer;
    buffer.unmap();
    slot.mapped = null;
    slot.state = 'pending';
    const encoder = this.#device.createCommandEncoder({ label: 'arrow-webgpu staging copies' });
    for (const c of copies) encoder.copyBufferToBuffer(buffer, c.srcOffset, c.dst, c.dstOffset, c.size);
    this.#device.queue.submit([encoder.finish()]);
    const remap = buffer.mapAsync(GPUMapMode.WRITE).then(
      () => {
        slot.mapped = buffer.getMappedRange();
        this.#release(slot);
      },
      (error: unknown) => {
        this.#failure = error;
        slot.state = 'free';
        this.#wakeAll();
        throw error;
      },
    );
    this.#remaps.add(remap);
    const forget = () => this.#remaps.delete(remap);
    remap.then(forget, forget);
    return remap;
  }

  /**
   * Marks a held slot's mapped range as written by others (file reads on other threads) until `writes`
   * settles: its buffer is not destroyed (by `destroy`, or the tracker's `destroyAll`) before that.
   */
  writtenUntil(held: StagingSlot, writes: Promise<unknown>): void {
    this.#tracker.writtenUntil(this.#own(held).buffer as GPUBuffer, writes);
  }

  /** Gives back a held slot without submitting it (it stays mapped). */
  release(held: StagingSlot): void {
    this.#release(this.#own(held));
  }

  /**
   * Destroys the buffers of free slots, so that an idle loader holds no staging memory; the next
   * `acquire` makes them again. Slots held or waiting for the GPU are left alone.
   */
  trim(): void {
    for (const slot of this.#slots) {
      if (slot.state !== 'free' || !slot.buffer) continue;
      this.#tracker.destroy(slot.buffer);
      slot.buffer = null;
      slot.mapped = null;
    }
  }

  /** Destroys the ring's buffers; later calls fail. */
  destroy(reason: unknown = new Error('staging ring destroyed')): void {
    this.#failure = reason;
    for (const slot of this.#slots) {
      if (slot.buffer) this.#tracker.destroy(slot.buffer); // after any reads into it (`writtenUntil`)
      slot.buffer = null;
      slot.mapped = null;
    }
    this.#wakeAll();
  }

  /** Makes `slot`'s buffer hold `minBytes` and `floor` (within `MAX_STAGING_BYTES`), in a power of two. */
  async #fit(slot: Slot, minBytes: number, floor: number): Promise<void> {
    const wanted = Math.min(MAX_STAGING_BYTES, Math.max(minBytes, floor));
    if (slot.buffer && slot.buffer.size >= wanted) return;
    const size = Math.min(MAX_STAGING_BYTES, Math.max(floor, nextPowerOfTwo(wanted)));
    if (slot.buffer) this.#tracker.destroy(slot.buffer);
    slot.buffer = null;
    slot.mapped = null;
    const buffer = await this.#tracker.create({
      label: 'arrow-webgpu staging buffer',
      size,
      usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    // Destroyed while the buffer was being made (its device lost, its loader gone): nothing keeps it.
    if (this.#failure) {
      this.#tracker.destroy(buffer);
      throw this.#failure;
    }
    slot.buffer = buffer;
    slot.mapped = buffer.getMappedRange();
  }

  #own(held: StagingSlot): Slot {
    const slot = this.#slots.find((s) => s === held);
    if (slot?.state !== 'held') throw new Error('staging slot is not held by this ring');
    return slot;
  }

  #release(slot: Slot): void {
    slot.state = 'free';
    this.#waiters.shift()?.();
  }

  #wakeAll(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #nextFree(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(wake);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The slot of `slots` with the smallest buffer (all have one). */
function smallest(slots: readonly Slot[]): Slot | undefined {
  let best: Slot | undefined;
  for (const slot of slots) if (!best || (slot.buffer?.size ?? 0) < (best.buffer?.size ?? 0)) best = slot;
  return best;
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}
