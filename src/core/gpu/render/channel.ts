import type { Encoding } from '../../columns/encoding.js';
import { ArgumentError } from '../../errors.js';
import type { UploadedColumn } from '../upload/table-uploader.js';

/**
 * How a drawn column's values become f32 in the shader: each is read relative to an origin chosen near
 * the domain on the CPU, so that a zoom into large values (timestamps, 64-bit ids) keeps its precision.
 * `float`: f32 words (`f32`, `f32-relative`); `f64`: the double split into two f32s; `signed` and
 * `unsigned`: integers widened to 64 bits and subtracted exactly before one rounding to f32.
 */
export type ChannelKind = 'float' | 'f64' | 'signed' | 'unsigned';

const KINDS: Partial<Record<Encoding, ChannelKind>> = {
  f32: 'float',
  'f32-relative': 'float',
  f64: 'f64',
  i32: 'signed',
  i64: 'signed',
  u32: 'unsigned',
  u64: 'unsigned',
  dictionary: 'unsigned',
  bool: 'unsigned',
};

/** The encodings the renderer draws. */
export const DRAWABLE_ENCODINGS: readonly Encoding[] = Object.keys(KINDS) as Encoding[];

/** A column as a channel (x, y or colour) reads it. */
export interface Channel {
  column: UploadedColumn;
  kind: ChannelKind;
  /** What the stored values are relative to (`f32-relative`'s offset; 0 otherwise). */
  offset: number;
  /** Dictionary codes and booleans are categories: coloured from a palette, not a ramp. */
  categorical: boolean;
}

/** The channel reading `column` for `option`, or `INVALID_ARGUMENT` naming it and its encoding. */
export function channelOf(column: UploadedColumn, option: string): Channel {
  const { name, encoding, arrowType } = column.plan;
  const kind = KINDS[encoding];
  if (!kind) {
    throw new ArgumentError(
      `render: ${option} column ${JSON.stringify(name)} cannot be drawn: its encoding is ${encoding} ` +
        `(the renderer reads ${DRAWABLE_ENCODINGS.join(', ')})`,
      { column: name, arrowType, option },
    );
  }
  const offset = encoding === 'f32-relative' ? Number(column.extras.offset ?? 0) : 0;
  return { column, kind, offset, categorical: encoding === 'dictionary' || encoding === 'bool' };
}

/** A channel's map from value to output, as the shader applies it: `(value − origin) · k + b`. */
export interface ChannelMap {
  /** The origin's two words: f32 bits (hi, lo) of a double-single for floats, (lo, hi) of a 64-bit integer. */
  origin: [number, number];
  k: number;
  b: number;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

function bitsOf(x: number): number {
  f32[0] = x;
  return f32Bits[0] as number;
}

/**
 * The map sending `domain[0]` to `out[0]` and `domain[1]` to `out[1]`. The origin is the domain's low
 * end (a float as a double-single; an integer floored into the column's range); what is left of the
 * low end after the origin goes into `b`, computed in f64.
 */
export function channelMap(
  channel: Channel,
  domain: readonly [number, number],
  out: readonly [number, number],
): ChannelMap {
  const [lo, hi] = domain;
  const k = (out[1] - out[0]) / (hi - lo);
  if (channel.kind === 'float' || channel.kind === 'f64') {
    const origin = lo - channel.offset;
    const oHi = Math.fround(origin);
    const oLo = Math.fround(origin - oHi);
    const residual = origin - oHi - oLo;
    return { origin: [bitsOf(oHi), bitsOf(oLo)], k, b: out[0] - residual * k };
  }
  const min = channel.kind === 'signed' ? I64_MIN : 0n;
  const max = channel.kind === 'signed' ? I64_MAX : U64_MAX;
  const floor = Number.isFinite(lo) ? BigInt(Math.floor(lo)) : 0n;
  const origin = floor < min ? min : floor > max ? max : floor;
  const words = BigInt.asUintN(64, origin);
  const residual = lo - Number(origin);
  return {
    origin: [Number(words & 0xffffffffn), Number(words >> 32n)],
    k,
    b: out[0] - residual * k,
  };
}
