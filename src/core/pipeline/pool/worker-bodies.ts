import { NetworkError } from '../../errors.js';
import { truncated, unreadable } from '../../ipc/faults.js';
import type { BufferRegion } from '../../ipc/metadata/record-batch.js';
import type { BodyFileSpec } from '../../source/byte-source.js';
import type { WorkerBody } from './batch-encoder.js';
import type { BodyFile, OpenBodyFile, WireMessage } from './protocol.js';
import type { ScratchBuffers } from './scratch-buffers.js';

/** The ranges `[start, end)` of `length` bytes outside every region of `holes`. */
export function gaps(length: number, holes: readonly BufferRegion[]): Array<[number, number]> {
  const sorted = [...holes].sort((a, b) => a.offset - b.offset);
  const out: Array<[number, number]> = [];
  let at = 0;
  for (const { offset, length: size } of sorted) {
    const start = Math.min(Math.max(offset, at), length);
    if (start > at) out.push([at, start]);
    at = Math.max(at, Math.min(length, offset + size));
  }
  if (at < length) out.push([at, length]);
  return out;
}

/** Where a decode session reads the bodies the loader skipped: a file, and how this worker opens one. */
export interface BodySource {
  file: BodyFileSpec | null;
  open: OpenBodyFile | null;
}

/**
 * Reads a session's deferred bodies on the decode worker, at their offsets in the source, into scratch
 * buffers of the worker's: moved to the loader with the batch (raw columns' words lie in them) and
 * handed back once uploaded.
 */
export class WorkerBodies {
  readonly #url: string;
  readonly #source: BodySource;
  readonly #scratch: ScratchBuffers;
  #file: BodyFile | null = null;

  constructor(url: string, source: BodySource, scratch: ScratchBuffers) {
    this.#url = url;
    this.#source = source;
    this.#scratch = scratch;
  }

  /**
   * Reads `message`'s body but for the regions of `holes` (words left in the source for the loader to
   * read: those bytes stay whatever the buffer held); a failed read is `NETWORK`, a short one
   * `TRUNCATED`, each at its byte offset.
   */
  read({ header, bodyOffset }: WireMessage, holes: readonly BufferRegion[] = []): WorkerBody {
    const length = header.bodyLength;
    const bytes = new Uint8Array(this.#scratch.acquire(length), 0, length);
    for (const [start, end] of gaps(length, holes)) this.fill(bytes.subarray(start, end), bodyOffset + start);
    return { bytes, own: true };
  }

  /** Fills `target` from the source at `position`, with `read`'s errors. */
  fill(target: Uint8Array, position: number): void {
    const url = this.#url;
    const { file, open } = this.#source;
    if (file === null || open === null) {
      const reason = `${url}: a body at byte ${position} was left to a worker that cannot read it`;
      throw new NetworkError(reason, { url, byteOffset: position });
    }
    let read: number;
    try {
      this.#file ??= open(file);
      read = this.#file.readAt(target, position);
    } catch (error) {
      throw unreadable(url, position, error);
    }
    if (read < target.byteLength) throw truncated(url, position + read, target.byteLength - read);
  }

  /** Closes the source, if a body was read. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
