import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { END_OF_STREAM_MARKER, isEndOfStreamMarker } from '../../src/core/source/end-of-stream-marker.js';
import { MarkerTail } from '../../src/core/source/marker-tail.js';

describe('MarkerTail', () => {
  it('tells whether the bytes pushed so far end with an end-of-stream marker, however they were cut', () => {
    // Bytes made of markers, their halves and a few other bytes, so that whole and partial markers are
    // common; then cut anywhere.
    const token = fc.oneof(
      fc.constant([...END_OF_STREAM_MARKER]),
      fc.constant([0xff, 0xff, 0xff, 0xff]),
      fc.constant([0, 0, 0, 0]),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3 }),
    );
    const pieces = fc
      .tuple(fc.array(token, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 }))
      .map(([tokens, cuts]) => {
        const bytes = tokens.flat();
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        return [...at, bytes.length].map((end, i) => bytes.slice(i === 0 ? 0 : at[i - 1], end));
      });
    let ended = 0;
    fc.assert(
      fc.property(pieces, (parts) => {
        const tail = new MarkerTail();
        const all: number[] = [];
        for (const part of parts) {
          tail.push(Uint8Array.from(part));
          all.push(...part);
          const bytes = Uint8Array.from(all);
          const expected = isEndOfStreamMarker(bytes, bytes.byteLength - END_OF_STREAM_MARKER.byteLength);
          expect(tail.atMarker).toBe(expected);
          if (expected) ended++;
        }
      }),
      { numRuns: 1000 },
    );
    expect(ended, 'pushes after which the bytes ended with a marker').toBeGreaterThan(50);
  });

  it('knows of no marker after bytes passed over unseen', () => {
    const tail = new MarkerTail();
    tail.push(Uint8Array.from(END_OF_STREAM_MARKER));
    expect(tail.atMarker).toBe(true);
    tail.reset();
    expect(tail.atMarker).toBe(false);
    tail.push(Uint8Array.of(0, 0, 0, 0)); // the marker's second half alone
    expect(tail.atMarker).toBe(false);
  });
});
