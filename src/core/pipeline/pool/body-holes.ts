import type { BatchShape, BufferRegion } from '../../ipc/metadata/record-batch.js';

/**
 * Which regions of a record batch body a decode worker leaves unread, because the loader reads them
 * from the source into staging memory itself: learned from the last batch of the same layout (as many
 * regions, as many variadic buffers each), whose columns left exactly those regions' words in the source.
 * Batches of one schema and layout map each region to the same buffer of the same column, so a region
 * that held a column's words as they are in the file does again. A batch whose columns do not leave a
 * hole's words in the source after all gets that hole read before it is sent (`settle`).
 */
export class BodyHoles {
  #learned: { signature: string; regions: number[] } | null = null;

  /** The regions of a batch of `shape` to leave unread; none before a batch of its layout was seen. */
  holesFor(shape: BatchShape | null): BufferRegion[] {
    const learned = this.#learned;
    if (!shape || !learned || learned.signature !== signature(shape)) return [];
    // This batch's buffers must not share a hole's bytes either: what they hold is read.
    const shared = sharedRegions(shape.regions);
    return learned.regions.filter((i) => !shared.has(i)).map((i) => shape.regions[i] as BufferRegion);
  }

  /**
   * After a batch of `shape` is encoded, its columns having left words starting at `leftAt` (offsets
   * in the body) in the source: the holes whose words were not left there, to read now. Learns the
   * regions for the next batch.
   */
  settle(shape: BatchShape | null, holes: readonly BufferRegion[], leftAt: ReadonlySet<number>) {
    const missed = holes.filter((hole) => !leftAt.has(hole.offset));
    if (!shape) return missed;
    const shared = sharedRegions(shape.regions);
    const regions = shape.regions.flatMap((region, i) =>
      region.length > 0 && leftAt.has(region.offset) && !shared.has(i) ? [i] : [],
    );
    this.#learned = regions.length > 0 ? { signature: signature(shape), regions } : null;
    return missed;
  }
}

/** A batch's layout: its regions, and the variadic buffers of each view-typed node. */
function signature(shape: BatchShape): string {
  return `${shape.regions.length}:${shape.variadicCounts.join(',')}`;
}

/**
 * The non-empty regions that share a byte with another (a hole must be one buffer's alone): a sweep in
 * offset order, so that a table of many columns costs no more than sorting its regions.
 */
export function sharedRegions(regions: readonly BufferRegion[]): Set<number> {
  const order = regions.flatMap((r, i) => (r.length > 0 ? [i] : []));
  order.sort((a, b) => (regions[a] as BufferRegion).offset - (regions[b] as BufferRegion).offset);
  const shared = new Set<number>();
  let reach = -1; // the region reaching furthest so far
  let end = Number.NEGATIVE_INFINITY;
  for (const i of order) {
    const { offset, length } = regions[i] as BufferRegion;
    if (offset < end) {
      shared.add(i);
      shared.add(reach);
    }
    if (offset + length > end) {
      end = offset + length;
      reach = i;
    }
  }
  return shared;
}
