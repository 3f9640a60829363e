import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BatchShape, BufferRegion } from '../../src/core/ipc/metadata/record-batch.js';
import { BodyHoles, sharedRegions } from '../../src/core/pipeline/pool/body-holes.js';
import { gaps } from '../../src/core/pipeline/pool/worker-bodies.js';

// A decode worker reads a body but for its holes (words the loader reads from the file itself): the
// ranges it reads and the holes together cover the body, and a hole is learned only from a batch of the
// same layout whose columns left exactly that region in the file.

const region = fc.record({ offset: fc.nat(2048), length: fc.nat(512) });

/** A batch shape with `regions` and `variadic` counts (the rest is not read by `BodyHoles`). */
function shape(regions: BufferRegion[], variadic: number[] = []): BatchShape {
  return { regions, variadicCounts: variadic } as unknown as BatchShape;
}

describe('gaps: the ranges of a body read around its holes', () => {
  it('cover every byte outside the holes, and none inside, in order', () => {
    fc.assert(
      fc.property(fc.nat(2048), fc.array(region, { maxLength: 8 }), (length, holes) => {
        const read = new Uint8Array(length);
        let last = 0;
        for (const [start, end] of gaps(length, holes)) {
          expect(start).toBeGreaterThanOrEqual(last);
          expect(end).toBeGreaterThan(start);
          read.fill(1, start, end);
          last = end;
        }
        const inHole = (i: number) => holes.some((h) => i >= h.offset && i < h.offset + h.length);
        for (let i = 0; i < length; i++) expect(read[i], `byte ${i}`).toBe(inHole(i) ? 0 : 1);
      }),
    );
  });
});

describe('BodyHoles: which regions a worker leaves unread', () => {
  const regions = [
    { offset: 0, length: 0 }, // x validity
    { offset: 0, length: 4000 }, // x values: left in the file
    { offset: 4000, length: 0 },
    { offset: 4000, length: 8000 }, // y values: converted on the worker
  ];

  it('none before a batch of the layout was seen; then the regions the last such batch left in the file', () => {
    const holes = new BodyHoles();
    expect(holes.holesFor(shape(regions))).toEqual([]);
    expect(holes.settle(shape(regions), [], new Set([0]))).toEqual([]);
    expect(holes.holesFor(shape(regions))).toEqual([{ offset: 0, length: 4000 }]);
    // Another layout (a region more, or other variadic counts) gets none.
    expect(holes.holesFor(shape([...regions, { offset: 12000, length: 8 }]))).toEqual([]);
    expect(holes.holesFor(shape(regions, [1]))).toEqual([]);
  });

  it('a hole whose words the batch did not leave in the file is handed back to be read, and unlearned', () => {
    const holes = new BodyHoles();
    holes.settle(shape(regions), [], new Set([0]));
    const hole = holes.holesFor(shape(regions));
    expect(holes.settle(shape(regions), hole, new Set())).toEqual([{ offset: 0, length: 4000 }]);
    expect(holes.holesFor(shape(regions))).toEqual([]);
  });

  it('sharedRegions names exactly the non-empty regions that share a byte with another', () => {
    fc.assert(
      fc.property(fc.array(region, { maxLength: 12 }), (regions) => {
        const overlaps = (a: BufferRegion, b: BufferRegion) =>
          a.length > 0 && b.length > 0 && a.offset < b.offset + b.length && b.offset < a.offset + a.length;
        const expected = regions.flatMap((r, i) =>
          regions.some((o, j) => j !== i && overlaps(r, o)) ? [i] : [],
        );
        expect([...sharedRegions(regions)].sort((a, b) => a - b)).toEqual(expected);
      }),
    );
  });

  it('a region that shares bytes with another buffer is never a hole', () => {
    const aliased = [
      { offset: 0, length: 4000 },
      { offset: 2000, length: 4000 },
    ];
    const holes = new BodyHoles();
    holes.settle(shape(aliased), [], new Set([0]));
    expect(holes.holesFor(shape(aliased))).toEqual([]);
  });
});
