import type { Channel } from './channel.js';
import { channelOf } from './channel.js';
import type { PointChannels } from './points-wgsl.js';
import type { FilterMode, Range, RenderSettings, RenderShader } from './render-settings.js';
import type { ViewSource } from './view-source.js';

/** The settings of a view, every default filled in. */
export interface Resolved {
  x: string | null;
  y: string | null;
  color: string | null;
  shader: RenderShader | null;
  size: number;
  opacity: number;
  pixelRatio: number;
  background: [number, number, number, number];
  filterMode: FilterMode;
  domain: { x: Range; y: Range; color: Range | null };
}

/** Share of the span added on each side of a column's extent when it becomes an axis's default domain. */
export const DOMAIN_PADDING = 0.02;

/**
 * An axis's default domain: the column's extent widened by `DOMAIN_PADDING` of its span on each side
 * (so that the extreme points are drawn whole), ±0.5 around a single value, [0, 1] without any value.
 */
export function paddedDomain(extent: readonly [number, number] | null): Range {
  if (!extent) return [0, 1];
  const [lo, hi] = extent;
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * DOMAIN_PADDING;
  return [lo - pad, hi + pad];
}

/** A colour ramp's default domain: the column's extent, ±0.5 around a single value, [0, 1] without any. */
function colorDomain(extent: readonly [number, number] | null): Range {
  if (!extent) return [0, 1];
  return extent[0] === extent[1] ? [extent[0] - 0.5, extent[1] + 0.5] : [extent[0], extent[1]];
}

/** The settings after `changes`, and the channels they draw; columns are looked up, domains found. */
export async function resolve(
  source: ViewSource,
  current: Resolved | null,
  channels: PointChannels | null,
  changes: RenderSettings,
): Promise<{ settings: Resolved; channels: PointChannels | null }> {
  const shader = changes.shader ?? current?.shader ?? null;
  const base: Resolved = current ?? {
    ...{ x: null, y: null, color: null, shader: null, size: 2, opacity: 1, pixelRatio: 1 },
    ...{ background: [0, 0, 0, 0], filterMode: 'dim', domain: { x: [0, 1], y: [0, 1], color: null } },
  };
  const settings: Resolved = {
    x: changes.x ?? base.x,
    y: changes.y ?? base.y,
    color: changes.color === undefined ? base.color : changes.color,
    shader,
    size: changes.size ?? base.size,
    opacity: changes.opacity ?? base.opacity,
    pixelRatio: changes.pixelRatio ?? base.pixelRatio,
    background: changes.background ? [...changes.background] : base.background,
    filterMode: changes.filterMode ?? base.filterMode,
    domain: { ...base.domain },
  };
  if (shader) {
    const { x, y } = changes.domain ?? {};
    settings.domain = { x: x ? [...x] : base.domain.x, y: y ? [...y] : base.domain.y, color: null };
    return { settings, channels: null };
  }
  const pick = (option: string, name: string | null, old: Channel | null | undefined) =>
    name === null
      ? null
      : old && old.column.plan.name === name
        ? old
        : channelOf(source.column(name), option);
  const next: PointChannels = {
    x: pick('x', settings.x, channels?.x) as Channel,
    y: pick('y', settings.y, channels?.y) as Channel,
    color: pick('color', settings.color, channels?.color),
  };
  const domain = changes.domain ?? {};
  const axis = async (channel: Channel, old: Channel | undefined, given: Range | undefined, was: Range) =>
    given ? [...given] : channel === old ? was : paddedDomain(await source.extent(channel.column));
  settings.domain = {
    x: (await axis(next.x, channels?.x, domain.x, base.domain.x)) as Range,
    y: (await axis(next.y, channels?.y, domain.y, base.domain.y)) as Range,
    color: await colorRange(source, next.color, channels?.color ?? null, domain.color, base.domain.color),
  };
  return { settings, channels: next };
}

/** A numeric colour column's range: given, kept while the column stays, or its extent. */
async function colorRange(
  source: ViewSource,
  channel: Channel | null,
  old: Channel | null,
  given: Range | undefined,
  was: Range | null,
): Promise<Range | null> {
  if (!channel || channel.categorical) return null;
  if (given) return [...given];
  if (channel === old && was) return was;
  return colorDomain(await source.extent(channel.column));
}
