import {
  CompressionType,
  compressionRegistry,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  type Table,
} from 'apache-arrow';
import { registerCompressionCodecs } from '../../src/core/ipc/compression/codecs.js';
import { FlatbufferView } from '../../src/core/ipc/flatbuffer-view.js';
import { MessageKind } from '../../src/core/ipc/metadata/message.js';
import { DictionaryBatch, Message, RecordBatch } from '../../src/core/ipc/metadata/slots.js';

// Small, valid (if poor) ZSTD and LZ4 frame encoders, so that tests can write compressed Arrow IPC with
// apache-arrow's writer and then make a buffer lie about its size.

const ZSTD_BLOCK_MAX = 128 << 10;
const LZ4_BLOCK_MAX = 64 << 10;

function u64(value: number): number[] {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return [...out];
}

/** A ZSTD frame header: single segment, an 8-byte frame content size, no checksum, no dictionary. */
function zstdHeader(contentSize: number): number[] {
  return [0x28, 0xb5, 0x2f, 0xfd, 0xe0, ...u64(contentSize)];
}

function zstdBlockHeader(type: 0 | 1, size: number, last: boolean): number[] {
  const word = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [word & 0xff, (word >> 8) & 0xff, (word >> 16) & 0xff];
}

/** Length of the run of equal bytes that starts at `at`. */
function runAt(bytes: Uint8Array, at: number, max: number): number {
  let end = at + 1;
  while (end < bytes.length && end - at < max && bytes[end] === bytes[at]) end++;
  return end - at;
}

/** A ZSTD frame of `bytes`: runs of one byte as RLE blocks, everything else as raw blocks. */
export function zstdFrame(bytes: Uint8Array): Uint8Array {
  const blocks: Array<{ type: 0 | 1; start: number; size: number }> = [];
  let raw = 0;
  for (let at = 0; at < bytes.length; ) {
    const run = runAt(bytes, at, ZSTD_BLOCK_MAX);
    if (run >= 16 || at - raw === ZSTD_BLOCK_MAX) {
      if (at > raw) blocks.push({ type: 0, start: raw, size: at - raw });
      if (run >= 16) blocks.push({ type: 1, start: at, size: run });
      at += run >= 16 ? run : 0;
      raw = at;
    } else at++;
  }
  if (raw < bytes.length || blocks.length === 0)
    blocks.push({ type: 0, start: raw, size: bytes.length - raw });
  const out = [...zstdHeader(bytes.length)];
  blocks.forEach(({ type, start, size }, i) => {
    out.push(...zstdBlockHeader(type, size, i === blocks.length - 1));
    if (type === 1) out.push(bytes[start] as number);
    else for (let j = start; j < start + size; j++) out.push(bytes[j] as number);
  });
  return Uint8Array.from(out);
}

/** A valid ZSTD frame of RLE blocks that decompresses to `size` zero bytes, in about size / 32768 bytes. */
export function zstdRleBomb(size: number): Uint8Array {
  const blocks = Math.ceil(size / ZSTD_BLOCK_MAX);
  const out = new Uint8Array(13 + blocks * 4);
  out.set(zstdHeader(size));
  for (let i = 0; i < blocks; i++) {
    const length = Math.min(ZSTD_BLOCK_MAX, size - i * ZSTD_BLOCK_MAX);
    out.set([...zstdBlockHeader(1, length, i === blocks - 1), 0], 13 + i * 4);
  }
  return out;
}

/** An LZ4 length: `base` in the token's nibble, the rest in 255-steps. */
function lz4Length(out: number[], rest: number): void {
  let left = rest;
  for (; left >= 255; left -= 255) out.push(255);
  out.push(left);
}

/** One LZ4 block of `bytes`: matches at offsets 1, 2, 4 and 8 (runs and short periods), else literals. */
function lz4Block(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let literals = 0;
  const sequence = (end: number, match: number, offset: number) => {
    const count = end - literals;
    out.push((Math.min(count, 15) << 4) | (match ? Math.min(match - 4, 15) : 0));
    if (count >= 15) lz4Length(out, count - 15);
    for (let i = literals; i < end; i++) out.push(bytes[i] as number);
    if (!match) return;
    out.push(offset & 0xff, offset >> 8);
    if (match - 4 >= 15) lz4Length(out, match - 19);
  };
  for (let at = 0; at < bytes.length; ) {
    let best = 0;
    let offset = 0;
    for (const d of [1, 2, 4, 8]) {
      let n = 0;
      while (d <= at && at + n < bytes.length && bytes[at + n] === bytes[at + n - d]) n++;
      if (n > best) [best, offset] = [n, d];
    }
    if (best < 12) {
      at++;
      continue;
    }
    sequence(at, best, offset);
    at += best;
    literals = at;
  }
  sequence(bytes.length, 0, 0); // the last sequence holds literals only
  return out;
}

/**
 * An LZ4 frame of `bytes` with its content size and independent 64 KiB blocks. The header checksum byte
 * is left 0 (the library's decoder does not verify checksums).
 */
export function lz4Frame(bytes: Uint8Array): Uint8Array {
  const out = [0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, ...u64(bytes.length), 0];
  for (let at = 0; at < bytes.length; at += LZ4_BLOCK_MAX) {
    const chunk = bytes.subarray(at, at + LZ4_BLOCK_MAX);
    const block = lz4Block(chunk);
    const stored = block.length >= chunk.length;
    const size = stored ? chunk.length : block.length;
    out.push(...u64((stored ? 0x80000000 : 0) + size).slice(0, 4));
    if (stored) for (const b of chunk) out.push(b);
    else for (const b of block) out.push(b);
  }
  out.push(0, 0, 0, 0);
  return Uint8Array.from(out);
}

/** A compressed frame's own content size, as `zstdFrame`, `zstdRleBomb` and `lz4Frame` write it. */
function contentSize(frame: Uint8Array): number {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return Number(view.getBigUint64(view.getUint32(0, true) === 0xfd2fb528 ? 5 : 6, true));
}

/** A record or dictionary batch message of an IPC stream or file, and where its buffers lie. */
export interface BatchMessage {
  kind: number;
  /** Offset of the message (its continuation marker) in the bytes. */
  at: number;
  /** Offset of its body in the bytes. */
  bodyAt: number;
  /** Offset just past its body. */
  end: number;
  buffers: Array<{ offset: number; length: number }>;
}

/** The batch messages of IPC bytes (stream, or a file's messages up to its footer). */
export function batchMessages(bytes: Uint8Array): BatchMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BatchMessage[] = [];
  let at = bytes[0] === 0x41 ? 8 : 0; // a file opens with "ARROW1" and two bytes of padding
  while (at + 8 <= bytes.byteLength && view.getUint32(at, true) === 0xffffffff) {
    const length = view.getInt32(at + 4, true);
    if (length === 0) break;
    const fb = new FlatbufferView(bytes.subarray(at + 8, at + 8 + length));
    const message = fb.root();
    const kind = fb.u8(fb.field(message, Message.header_type) as number);
    const bodyField = fb.field(message, Message.bodyLength);
    const bodyLength = bodyField === null ? 0 : fb.i64(bodyField);
    const bodyAt = at + 8 + length;
    if (kind === MessageKind.RecordBatch || kind === MessageKind.DictionaryBatch) {
      let table = fb.indirect(fb.field(message, Message.header) as number);
      if (kind === MessageKind.DictionaryBatch) {
        table = fb.indirect(fb.field(table, DictionaryBatch.data) as number);
      }
      const vector = fb.vector(fb.field(table, RecordBatch.buffers) as number, 16);
      const buffers = Array.from({ length: vector.length }, (_, i) => ({
        offset: fb.i64(vector.start + i * 16),
        length: fb.i64(vector.start + i * 16 + 8),
      }));
      out.push({ kind, at, bodyAt, end: bodyAt + bodyLength, buffers });
    }
    at = bodyAt + bodyLength;
  }
  return out;
}

/** Offset in `bytes` of each compressed buffer's length prefix, message by message (stored ones too). */
export function prefixOffsets(message: BatchMessage): Array<number | null> {
  return message.buffers.map((b) => (b.length >= 8 ? message.bodyAt + b.offset : null));
}

/**
 * Writes `table` as IPC compressed with `codec`, each buffer encoded by `substitute` when it returns a
 * frame, else by the encoders above. apache-arrow 21's writer puts the compressed length in each
 * buffer's uncompressed-length prefix: every prefix is then set to its frame's content size.
 */
export function writeCompressed(
  table: Table,
  codec: CompressionType,
  format: 'stream' | 'file',
  substitute: (bytes: Uint8Array) => Uint8Array | undefined = () => undefined,
): Uint8Array {
  registerCompressionCodecs();
  const ours = compressionRegistry.get(codec);
  if (ours === null) throw new Error('no codec registered');
  const encode = codec === CompressionType.ZSTD ? zstdFrame : lz4Frame;
  compressionRegistry.set(codec, { decode: ours.decode, encode: (b) => substitute(b) ?? encode(b) });
  try {
    const Writer = format === 'stream' ? RecordBatchStreamWriter : RecordBatchFileWriter;
    const bytes = Writer.writeAll(table, { compressionType: codec }).toUint8Array(true);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const message of batchMessages(bytes)) {
      for (const at of prefixOffsets(message)) {
        if (at === null || view.getBigInt64(at, true) === -1n) continue;
        const length = contentSize(bytes.subarray(at + 8));
        view.setBigInt64(at, BigInt(length), true);
      }
    }
    return bytes;
  } finally {
    compressionRegistry.set(codec, ours);
  }
}
