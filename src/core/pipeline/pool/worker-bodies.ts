import { NetworkError } from '../../errors.js';
import { truncated } from '../../ipc/faults.js';
import type { BodyFileSpec } from '../../source/byte-source.js';
import type { WorkerBody } from './batch-encoder.js';
import type { BodyFile, OpenBodyFile, WireMessage } from './protocol.js';
import type { ScratchBuffers } from './scratch-buffers.js';

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

  /** Reads `message`'s body; a failed read is `NETWORK`, a short one `TRUNCATED`, each at its byte offset. */
  read({ header, bodyOffset }: WireMessage): WorkerBody {
    const url = this.#url;
    const length = header.bodyLength;
    const { file, open } = this.#source;
    if (file === null || open === null) {
      const reason = `${url}: a body at byte ${bodyOffset} was left to a worker that cannot read it`;
      throw new NetworkError(reason, { url, byteOffset: bodyOffset });
    }
    const bytes = new Uint8Array(this.#scratch.acquire(length), 0, length);
    let read: number;
    try {
      this.#file ??= open(file);
      read = this.#file.readAt(bytes, bodyOffset);
    } catch (error) {
      const reason = `${url} could not be read at byte ${bodyOffset}: ${String(error)}`;
      throw new NetworkError(reason, { url, byteOffset: bodyOffset }, { cause: error });
    }
    if (read < length) throw truncated(url, bodyOffset + read, length - read);
    return { bytes, own: true };
  }

  /** Closes the source, if a body was read. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
