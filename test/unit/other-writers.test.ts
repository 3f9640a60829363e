import { tableFromArrays, tableToIPC } from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { chunked, streamed, whole } from '../support/byte-sources.js';
import { decodeAll } from '../support/decode.js';

// Files written by other Arrow libraries load exactly: flechette closes the stream inside a file with two
// end-of-stream markers before the footer, which is valid and must not be taken for unread messages.

const ROWS = 3000;
const price = Float64Array.from({ length: ROWS }, (_, i) => i * 1.25 - 700);
const qty = Int32Array.from({ length: ROWS }, (_, i) => (i * 7919) % 1000);
const city = Array.from({ length: ROWS }, (_, i) => (i % 11 === 0 ? null : `city ${i % 13}`));
const table = tableFromArrays({ price, qty, city }, { maxBatchRows: 1000 });

/** Every decoded row as plain values, in order. */
async function rowsOf(source: AsyncIterable<Uint8Array>, file?: Uint8Array): Promise<unknown[][]> {
  const batches = await decodeAll(source, 'test://flechette', file);
  return batches.flatMap((batch) =>
    Array.from({ length: batch.numRows }, (_, i) =>
      ['price', 'qty', 'city'].map((n) => batch.getChild(n)?.get(i)),
    ),
  );
}

const expected = Array.from({ length: ROWS }, (_, i) => [price[i], qty[i], city[i]]);

describe('files from flechette', () => {
  for (const format of ['file', 'stream'] as const) {
    const bytes = tableToIPC(table, { format }) as Uint8Array;
    const file = format === 'file' ? bytes : undefined;
    it(`${format} format decodes every row exactly, whole, chunked and streamed`, async () => {
      expect(await rowsOf(whole(bytes), file)).toEqual(expected);
      expect(await rowsOf(chunked(bytes, [1, 7, 61, 4093]), file)).toEqual(expected);
      expect(await rowsOf(streamed(bytes, 333), file)).toEqual(expected);
    });
  }

  it('a file whose bytes between the last message and the footer are not end markers is CORRUPT', async () => {
    const bytes = tableToIPC(table, { format: 'file' }) as Uint8Array;
    const markers = findSecondEndMarker(bytes);
    const broken = bytes.slice();
    broken[markers + 4] = 1; // the second marker now declares 1 byte of metadata
    await expect(rowsOf(whole(broken), broken)).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});

/** The offset of the second of two consecutive end-of-stream markers. */
function findSecondEndMarker(bytes: Uint8Array): number {
  const marker = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
  const at = (i: number) => marker.every((b, k) => bytes[i + k] === b);
  for (let i = 0; i + 16 <= bytes.byteLength; i++) if (at(i) && at(i + 8)) return i + 8;
  throw new Error('no double end-of-stream marker: the writer changed, this test needs another file');
}
