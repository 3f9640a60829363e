import { UnsupportedTypeError } from '../errors.js';
import { swapBody, unswappableColumns } from './byte-swap.js';
import { decompressBody } from './compression/decompress-body.js';
import { corrupt } from './faults.js';
import type { FramedMessage } from './framer.js';
import { UnsupportedFault } from './metadata/checks.js';
import type { BatchShape } from './metadata/record-batch.js';
import type { SchemaLayout } from './metadata/schema.js';
import { batchLayout } from './shape-check.js';
import { uncompressedMessage } from './uncompressed-message.js';

/**
 * Fails a big-endian schema with a column whose values have no known width (they could not be swapped)
 * with `UNSUPPORTED_TYPE` naming every such column; other schemas pass.
 */
export function checkByteOrder(layout: SchemaLayout, url: string, byteOffset: number): void {
  if (!layout.bigEndian) return;
  const columns = unswappableColumns(layout);
  if (columns.length === 0) return;
  throw new UnsupportedTypeError(
    `${url} is big-endian, and ${columns.length} column(s) hold values of no known width, which cannot be ` +
      `turned little-endian: ${columns.map((c) => JSON.stringify(c)).join(', ')}`,
    { url, byteOffset, column: columns[0] as string, columns },
  );
}

/**
 * The message with the body of a batch of a big-endian schema turned little-endian, before apache-arrow
 * (which reads every number little-endian) decodes it: in place, or for a compressed body, in a new
 * body of its decompressed buffers, with metadata that no longer says it is compressed (the compressed
 * body has been bounded first). Other messages come back as they are.
 */
export function bodyToLittleEndian(
  message: FramedMessage,
  layout: SchemaLayout | null,
  url: string,
): FramedMessage {
  const { header, body, bodyOffset } = message;
  if (layout === null || !layout.bigEndian || header.batch === null) return message;
  const needs = batchLayout(header.batch, layout);
  if (needs === undefined) return message;
  try {
    if (header.batch.compression === null) {
      swapBody(body, header.batch, needs.layout);
      return message;
    }
    const decompressed = decompressBodyAt(body, header.batch, url, bodyOffset);
    swapBody(decompressed.body, { ...header.batch, regions: decompressed.regions }, needs.layout);
    return uncompressedMessage(message, decompressed.body, decompressed.regions);
  } catch (error) {
    if (!(error instanceof UnsupportedFault)) throw error;
    throw new UnsupportedTypeError(`${url}: ${error.message}`, { url, byteOffset: bodyOffset });
  }
}

/** `decompressBody`, a buffer that does not decompress to its length failing with `CORRUPT`. */
function decompressBodyAt(body: Uint8Array, batch: BatchShape, url: string, bodyOffset: number) {
  try {
    return decompressBody(body, batch);
  } catch (error) {
    throw corrupt(url, bodyOffset, `a compressed buffer of a big-endian batch: ${(error as Error).message}`);
  }
}
