import { read } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadAborted, NetworkError } from '../src/core/errors.js';
import { unreadable } from '../src/core/ipc/faults.js';
import type { ByobBody } from '../src/core/source/byob.js';
import { ByteSlab } from '../src/core/source/byte-slab.js';
import type { BodyFileSpec, ByteSource } from '../src/core/source/byte-source.js';
import { fileStamp } from './node-body-file.js';

/** Bytes a chunk read of a file source reads (headers and small messages; bodies are read into their buffers). */
const CHUNK_BYTES = 1 << 20;
/** Bytes of a chunk read once bodies are skipped: the next message's header, with room to spare. */
const HEADER_CHUNK_BYTES = 64 << 10;

/**
 * A read into a large buffer is split into pieces of at least this many bytes, read at once on libuv's
 * threads (4 by default): one thread's copy out of the page cache would otherwise pace the load.
 */
const PIECE_BYTES = 4 << 20;
const MAX_PIECES = 4;

/**
 * A file in Node as a byte source whose body reads at a position straight into the buffer it is given
 * (`FileHandle.read`, run on libuv's threads, not this one): a record batch body lands in its pooled
 * buffer with no join copy. Aborting `signal` closes the file; so does reading it to its end or
 * stopping early. A failed read is `NETWORK`, naming the byte offset.
 */
export async function nodeFileSource(path: string, signal?: AbortSignal): Promise<ByteSource> {
  if (signal?.aborted) throw loadAborted(path);
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw new NetworkError(`${path} could not be opened: ${String(error)}`, { url: path }, { cause: error });
  }
  const stats = await file.stat();
  const size = stats.size;
  const body = new FileBody(file, path, size);
  signal?.addEventListener('abort', () => body.close(), { once: true });
  const bodyFile = { path: resolve(path), stamp: fileStamp(stats) };
  const reads = new PositionalReads(bodyFile);
  return {
    ...{ body, bytesTotal: size, readTail: (length: number) => readTail(path, size, length), bodyFile },
    ...{ readAt: reads.readAt, closeReads: reads.close },
  };
}

/**
 * Reads of the file at any position, through a handle of its own (opened at the first read, and
 * refused if the file is no longer the one the load opened): the body's handle closes once its last
 * message is read, and words are read into staging memory after that. Reads go through the callback
 * API (see `readAt`); the load closes the handle only once none is under way.
 */
class PositionalReads {
  #file: Promise<FileHandle> | null = null;
  #closed = false;

  constructor(readonly spec: BodyFileSpec) {}

  readonly readAt = async (target: Uint8Array, position: number): Promise<number> => {
    if (this.#closed) throw new Error('the file was closed');
    this.#file ??= openSame(this.spec);
    const { fd } = await this.#file;
    let filled = 0;
    while (filled < target.byteLength) {
      // The descriptor's number may be another file's once closed: never read after `close`.
      if (this.#closed) throw new Error('the file was closed');
      const length = target.byteLength - filled;
      const { bytesRead } = await readAt(fd, target, filled, length, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  };

  readonly close = (): void => {
    this.#closed = true;
    void this.#file?.then((file) => file.close()).catch(() => {});
    this.#file = null;
  };
}

/** Opens `spec.path` again; rejects when it is no longer the file the load opened. */
async function openSame(spec: BodyFileSpec): Promise<FileHandle> {
  const file = await open(spec.path, 'r');
  const stamp = fileStamp(await file.stat());
  if (stamp === spec.stamp) return file;
  await file.close();
  throw new Error(`the file changed since the load opened it (${stamp}, expected ${spec.stamp})`);
}

/** A file read front to back, in chunks or into given buffers, from one position that skips move on. */
class FileBody implements ByobBody {
  readonly #file: FileHandle;
  readonly #path: string;
  readonly #size: number;
  #position = 0;
  #closed = false;
  /** Bodies are skipped (read by decode workers): chunks then hold message headers, so they are read small. */
  #skipping = false;
  /** Where chunks are carved: 64 header chunks or 4 large ones a slab, not an ArrayBuffer each (see `ByteSlab`). */
  readonly #chunks = new ByteSlab(4 * CHUNK_BYTES, CHUNK_BYTES);

  constructor(file: FileHandle, path: string, size: number) {
    this.#file = file;
    this.#path = path;
    this.#size = size;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const bytes = this.#skipping ? HEADER_CHUNK_BYTES : CHUNK_BYTES;
        const chunk = await this.readInto(this.#chunks.take(bytes));
        if (chunk.byteLength === 0) return;
        yield chunk;
      }
    } finally {
      this.close();
    }
  }

  async readInto(target: Uint8Array): Promise<Uint8Array> {
    if (this.#closed || target.byteLength === 0) return target.subarray(0, 0);
    const at = this.#position;
    let bytesRead: number;
    try {
      bytesRead = await this.#readPieces(target, at);
    } catch (error) {
      this.close();
      throw unreadable(this.#path, at, error);
    }
    this.#position = at + bytesRead;
    if (bytesRead === 0) this.close();
    return target.subarray(0, bytesRead);
  }

  /** Reads `target` from `at` in up to `MAX_PIECES` concurrent pieces; bytes read up to the first short piece. */
  async #readPieces(target: Uint8Array, at: number): Promise<number> {
    const count = Math.max(1, Math.min(MAX_PIECES, Math.floor(target.byteLength / PIECE_BYTES)));
    const size = Math.ceil(target.byteLength / count);
    const reads: Promise<{ bytesRead: number }>[] = [];
    for (let start = 0; start < target.byteLength; start += size) {
      const length = Math.min(size, target.byteLength - start);
      reads.push(readAt(this.#file.fd, target, start, length, at + start));
    }
    let total = 0;
    for (const [i, { bytesRead }] of (await Promise.all(reads)).entries()) {
      total += bytesRead;
      // A piece short of its length ends the file: the pieces after it read nothing.
      if (bytesRead < Math.min(size, target.byteLength - i * size)) break;
    }
    return total;
  }

  /** Moves the position past `length` bytes (to the end at most) without reading them. */
  async skip(length: number): Promise<number> {
    const skipped = this.#closed ? 0 : Math.max(0, Math.min(length, this.#size - this.#position));
    this.#position += skipped;
    this.#skipping = true;
    return skipped;
  }

  /** Closes the file (once); later reads find the end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close().catch(() => {});
  }
}

/**
 * One positioned read through the callback API: `FileHandle.read` allocates more per call (a promise
 * request with its own stats array), and each allocation is a chance for V8 to collect garbage.
 */
function readAt(
  fd: number,
  target: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<{ bytesRead: number }> {
  return new Promise((resolve, reject) => {
    read(fd, target, offset, length, position, (error, bytesRead) => {
      if (error) reject(error);
      else resolve({ bytesRead });
    });
  });
}

/** The last `length` bytes of the file, read through a handle of their own. */
async function readTail(path: string, size: number, length: number): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const out = new Uint8Array(Math.min(length, size));
    await file.read(out, 0, out.byteLength, size - out.byteLength);
    return out;
  } finally {
    await file.close();
  }
}
