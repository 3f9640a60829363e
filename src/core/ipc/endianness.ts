import { UnsupportedTypeError } from '../errors.js';
import { swapBody, unswappableColumns } from './byte-swap.js';
import type { FramedMessage } from './framer.js';
import { UnsupportedFault } from './metadata/checks.js';
import type { SchemaLayout } from './metadata/schema.js';
import { batchLayout } from './shape-check.js';

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
 * Turns the body of a batch of a big-endian schema little-endian, in place, before apache-arrow (which
 * reads every number little-endian) decodes it; other messages pass. A compressed body is refused with
 * `UNSUPPORTED_TYPE`: its buffers are only decompressed inside apache-arrow.
 */
export function bodyToLittleEndian(message: FramedMessage, layout: SchemaLayout | null, url: string): void {
  const { header, body, bodyOffset } = message;
  if (layout === null || !layout.bigEndian || header.batch === null) return;
  const needs = batchLayout(header.batch, layout);
  if (needs === undefined) return;
  try {
    if (header.batch.compression !== null) {
      throw new UnsupportedFault('it is big-endian with compressed bodies, which are not read');
    }
    swapBody(body, header.batch, needs.layout);
  } catch (error) {
    if (!(error instanceof UnsupportedFault)) throw error;
    throw new UnsupportedTypeError(`${url}: ${error.message}`, { url, byteOffset: bodyOffset });
  }
}
