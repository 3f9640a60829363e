import type { BatchShape, BufferRegion } from '../metadata/record-batch.js';
import { decompressBuffer } from './codecs.js';

/** Arrow's length prefix for a buffer stored as is, uncompressed. */
const STORED = -1;
const PREFIX_BYTES = 8;
/** Buffers of the new body start at multiples of 8 bytes, as in an uncompressed body. */
const ALIGNMENT = 8;

/**
 * The body of a compressed batch with every buffer decompressed (or, stored as is, copied), one after
 * the other at 8-byte aligned offsets, and where each now lies. The framer has bounded every declared
 * length by the batch first (`checkCompressedBody`).
 */
export function decompressBody(
  body: Uint8Array,
  batch: BatchShape,
): { body: Uint8Array; regions: BufferRegion[] } {
  const codec = batch.compression as number;
  const buffers = batch.regions.map(({ offset, length }) => {
    if (length === 0) return new Uint8Array(0);
    const declared = Number(
      new DataView(body.buffer, body.byteOffset + offset, PREFIX_BYTES).getBigInt64(0, true),
    );
    const payload = body.subarray(offset + PREFIX_BYTES, offset + length);
    return declared === STORED ? payload : decompressBuffer(codec, payload, declared);
  });
  const regions: BufferRegion[] = [];
  let size = 0;
  for (const buffer of buffers) {
    regions.push({ offset: size, length: buffer.byteLength });
    size += Math.ceil(buffer.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  const out = new Uint8Array(size);
  buffers.forEach((buffer, i) => {
    out.set(buffer, (regions[i] as BufferRegion).offset);
  });
  return { body: out, regions };
}
