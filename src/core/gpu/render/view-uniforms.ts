import type { ChannelMap } from './channel.js';
import { DIM_OPACITY, hexColor, NULL_COLOR } from './palettes.js';
import { VIEW_BYTES } from './view-wgsl.js';

/** Which rows a pass draws (`AwgView.pass_kind`). */
export const PASS = { all: 0, outside: 1, inside: 2 } as const;

/** Everything the uniform block of one pass holds. */
export interface ViewBlock {
  x: ChannelMap | null;
  y: ChannelMap | null;
  color: ChannelMap | null;
  /** Device pixels. */
  width: number;
  height: number;
  /** CSS pixels. */
  pointSize: number;
  pixelRatio: number;
  opacity: number;
  /** Straight alpha, components in [0, 1]. */
  fill: readonly [number, number, number, number];
  domain: { x: readonly [number, number]; y: readonly [number, number] };
  rows: number;
  pass: number;
  hasMask: boolean;
}

const NULL_FILL = [...hexColor(NULL_COLOR), 1] as const;

/** The `AwgView` block (view-wgsl.ts) of `block`, as bytes for `writeBuffer`. */
export function viewBytes(block: ViewBlock): ArrayBuffer {
  const bytes = new ArrayBuffer(VIEW_BYTES);
  const f = new Float32Array(bytes);
  const u = new Uint32Array(bytes);
  for (const [at, map] of [
    [0, block.x],
    [4, block.y],
    [8, block.color],
  ] as const) {
    if (!map) continue;
    u[at] = map.origin[0];
    u[at + 1] = map.origin[1];
    f[at + 2] = map.k;
    f[at + 3] = map.b;
  }
  const point = block.pointSize * block.pixelRatio;
  f.set([block.width, block.height, point / Math.max(1, block.width), point / Math.max(1, block.height)], 12);
  f.set(block.fill, 16);
  f.set(NULL_FILL, 20);
  f.set([...block.domain.x, ...block.domain.y], 24);
  f.set([block.pixelRatio, block.pointSize, block.opacity, DIM_OPACITY], 28);
  u.set([block.rows, block.pass, block.hasMask ? 1 : 0, 0], 32);
  return bytes;
}
