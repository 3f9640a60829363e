/** Raised by `enqueue` once the queue has been closed. */
export class QueueClosedError extends Error {
  readonly code = 'QUEUE_CLOSED';
  constructor() {
    super('enqueue() on a closed BoundedQueue');
    this.name = 'QueueClosedError';
  }
}

interface WaitingProducer<T> {
  item: T;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

interface WaitingConsumer<T> {
  resolve: (item: T | undefined) => void;
  reject: (reason: unknown) => void;
}

/**
 * A FIFO queue of at most `capacity` items whose producers wait while it is full.
 * `undefined` marks the end of the queue, so items themselves may not be `undefined`.
 */
export class BoundedQueue<T extends NonNullable<unknown>> implements AsyncIterable<T> {
  /** Most items the queue holds at once. */
  readonly capacity: number;
  readonly #items: T[] = [];
  readonly #producers: WaitingProducer<T>[] = [];
  readonly #consumers: WaitingConsumer<T>[] = [];
  #closed = false;
  #aborted = false;
  #reason: unknown;
  #peak = 0;

  constructor(capacity = 2) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`BoundedQueue capacity must be an integer >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Items queued now. */
  get size(): number {
    return this.#items.length;
  }

  /** Largest `size` ever reached. */
  get peakSize(): number {
    return this.#peak;
  }

  /** True once `close()` or `abort()` was called. */
  get closed(): boolean {
    return this.#closed || this.#aborted;
  }

  /** Resolves once `item` is queued; waits while the queue is full; rejects once closed or aborted. */
  enqueue(item: T): Promise<void> {
    if (this.#aborted) return Promise.reject(this.#reason);
    if (this.#closed) return Promise.reject(new QueueClosedError());
    const consumer = this.#consumers.shift();
    if (consumer) {
      // A waiting consumer implies an empty queue: handing over directly keeps FIFO order.
      consumer.resolve(item);
      return Promise.resolve();
    }
    if (this.#items.length < this.capacity) {
      this.#push(item);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#producers.push({ item, resolve, reject }));
  }

  /** Resolves to the next item, or `undefined` once the queue is closed and drained. */
  dequeue(): Promise<T | undefined> {
    if (this.#aborted) return Promise.reject(this.#reason);
    const item = this.#items.shift();
    if (item !== undefined) {
      const producer = this.#producers.shift();
      if (producer) {
        this.#push(producer.item);
        producer.resolve();
      }
      return Promise.resolve(item);
    }
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => this.#consumers.push({ resolve, reject }));
  }

  /** Refuses new items; what is queued can still be dequeued. Producers still waiting are rejected. */
  close(): void {
    if (this.closed) return;
    this.#closed = true;
    for (const producer of this.#producers.splice(0)) producer.reject(new QueueClosedError());
    for (const consumer of this.#consumers.splice(0)) consumer.resolve(undefined);
  }

  /**
   * Drops every item and rejects every waiter, now and later, with `reason`. Returns the items
   * dropped (none if already aborted), for the caller to release what they hold.
   */
  abort(reason: unknown): T[] {
    if (this.#aborted) return [];
    this.#aborted = true;
    this.#reason = reason;
    const dropped = this.#items.splice(0);
    for (const producer of this.#producers.splice(0)) producer.reject(reason);
    for (const consumer of this.#consumers.splice(0)) consumer.reject(reason);
    return dropped;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = await this.dequeue();
      if (item === undefined) return;
      yield item;
    }
  }

  #push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.#peak) this.#peak = this.#items.length;
  }
}
