import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkLayout, rowsWithin } from '../../src/core/gpu/chunk-layout.js';

// A table's chunks are decided one at a time as rows arrive, each at its final size: the layout must
// cover the rows, keep every chunk but a capped last one a multiple of 32 rows, never change a chunk
// once added, and follow the estimate it is given.

const capacities = (layout: ChunkLayout) => layout.chunks.map((c) => c.capacity);

describe('ChunkLayout', () => {
  it('sizes one chunk to the estimate, then adds chunks as rows come past it', () => {
    const layout = new ChunkLayout(1 << 20);
    layout.extend(1000, 2000); // first batch of 1000 rows, sized for two
    layout.extend(2500, 100_000); // the estimate from the bytes seen so far
    expect(capacities(layout)).toEqual([2016, 100_000 - 2016]);
    // Past the estimate: an eighth of the rows so far at least, so that a short estimate costs few chunks.
    layout.extend(100_001, 100_000);
    expect(capacities(layout)).toEqual([2016, 97_984, 12_512]);
  });

  it('without an estimate, each chunk holds at least as many rows as all those before it', () => {
    const layout = new ChunkLayout(1 << 20);
    for (const rows of [100, 300, 900, 1000, 5000]) layout.extend(rows, 0);
    expect(capacities(layout)).toEqual([128, 192, 608, 928, 3168]);
  });

  it('keeps chunks within maxChunkRows and the whole within maxRows, the capped last chunk exact', () => {
    const layout = new ChunkLayout(4096, 10_000);
    layout.extend(9000, 1 << 20);
    expect(capacities(layout)).toEqual([4096, 4096, 1808]);
    expect(() => layout.extend(10_001, 0)).toThrow(/exceed the layout's 10000/);
  });

  it('finds the chunk of every row, and drops the chunks past the rows that came', () => {
    const layout = new ChunkLayout(1 << 20);
    layout.extend(64, 64);
    layout.extend(200, 1024);
    expect(layout.chunks).toEqual([
      { rowOffset: 0, capacity: 64 },
      { rowOffset: 64, capacity: 960 },
    ]);
    expect([0, 63, 64, 1023].map((row) => layout.indexOf(row))).toEqual([0, 0, 1, 1]);
    expect(() => layout.indexOf(1024)).toThrow(/past the layout/);
    expect(layout.truncate(64)).toBe(1);
    expect(layout.capacity).toBe(64);
  });

  it('any sequence of growth covers the rows with 32-row chunks that never change', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 200_000 })), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 64 }),
        (steps, chunkGroups) => {
          const layout = new ChunkLayout(chunkGroups * 32);
          let rows = 0;
          const seen: string[] = [];
          for (const [batch, target] of steps) {
            rows += batch;
            layout.extend(rows, target);
            expect(layout.capacity).toBeGreaterThanOrEqual(rows);
            const now = layout.chunks.map((c) => `${c.rowOffset}+${c.capacity}`);
            expect(now.slice(0, seen.length)).toEqual(seen);
            seen.splice(0, seen.length, ...now);
          }
          let offset = 0;
          for (const chunk of layout.chunks) {
            expect(chunk.rowOffset).toBe(offset);
            expect(chunk.capacity % 32).toBe(0);
            expect(chunk.capacity).toBeLessThanOrEqual(layout.maxChunkRows);
            offset += chunk.capacity;
          }
          // Nothing beyond what the rows needed: the last chunk starts below the rows.
          expect((layout.chunks[layout.chunks.length - 1]?.rowOffset ?? 0) < rows).toBe(true);
        },
      ),
    );
  });

  it('counts the rows a byte cap holds, bit-packed columns 32 rows a word', () => {
    expect(rowsWithin(4000, (rows) => rows * 8)).toBe(500);
    expect(rowsWithin(4000, (rows) => Math.ceil(rows / 32) * 4)).toBe(32_000);
    expect(rowsWithin(4000, () => 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
