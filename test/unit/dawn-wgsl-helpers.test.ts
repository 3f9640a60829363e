import { describe, expect, it } from 'vitest';
import { tableWgsl } from '../../src/core/columns/wgsl/table-wgsl.js';
import { runCompute, wordBuffer } from '../support/compute.js';
import { withDevice } from '../support/dawn.js';
import { xorshift } from '../support/mutate.js';
import { nearestF32Bits } from '../support/wgsl-checksum.js';

// The shared WGSL helpers run on Dawn against exact references computed here with BigInt and doubles.

const HELPERS = tableWgsl([], { helpers: 'all' }).code;
const f32Bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0] as number;
const fromBits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0] as number;
const MASK = (1n << 64n) - 1n;

/** Runs `body` (WGSL using `a`, `b` and writing `out[o + …]`) over cases of `inWords` words each. */
async function perCase(
  device: GPUDevice,
  words: Uint32Array<ArrayBuffer>,
  inWords: number,
  outWords: number,
  body: string,
): Promise<Uint32Array> {
  const cases = words.length / inWords;
  const code = `${HELPERS}
@group(0) @binding(0) var<storage, read> cases: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1) fn main() {
  for (var c = 0u; c < ${cases}u; c++) {
    let i = c * ${inWords}u;
    let o = c * ${outWords}u;
    ${body}
  }
}`;
  const input = wordBuffer(device, words);
  try {
    return await runCompute(device, code, [{ group: 0, binding: 0, buffer: input }], {
      group: 0,
      binding: 1,
      words: cases * outWords,
    });
  } finally {
    input.destroy();
  }
}

function int64Cases(): bigint[] {
  const next = xorshift(64);
  const edges = [0n, 1n, 2n ** 24n - 1n, 2n ** 24n + 1n, 2n ** 25n + 3n, 2n ** 32n - 1n, 2n ** 32n];
  const more = [2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, (2n ** 40n + 1n) << 20n];
  const random = Array.from({ length: 200 }, () => {
    const bits = BigInt(Math.floor(next() * 2 ** 32)) | (BigInt(Math.floor(next() * 2 ** 32)) << 32n);
    return bits >> BigInt(Math.floor(next() * 64)); // every magnitude
  });
  return [...edges, ...more, ...edges.map((e) => MASK & -e), ...random];
}

const words64 = (v: bigint) => [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];
const signed = (v: bigint) => BigInt.asIntN(64, v);

describe('WGSL helpers on Dawn', () => {
  it('64-bit compare, add, subtract and exact conversion to f32, signed and unsigned', async () => {
    const values = int64Cases();
    const pairs = values.map((a, i) => [a, values[(i * 7 + 3) % values.length] as bigint] as const);
    const words = Uint32Array.from(pairs.flatMap(([a, b]) => [...words64(a), ...words64(b)]));
    const got = await withDevice((device) =>
      perCase(
        device,
        words,
        4,
        8,
        `let a = vec2<u32>(cases[i], cases[i + 1u]);
    let b = vec2<u32>(cases[i + 2u], cases[i + 3u]);
    out[o] = select(0u, 1u, awg_u64_lt(a, b));
    out[o + 1u] = select(0u, 1u, awg_i64_lt(a, b));
    let sum = awg_u64_add(a, b);
    let difference = awg_u64_sub(a, b);
    out[o + 2u] = sum.x; out[o + 3u] = sum.y;
    out[o + 4u] = difference.x; out[o + 5u] = difference.y;
    out[o + 6u] = awg_u64_to_f32_bits(a);
    out[o + 7u] = awg_i64_to_f32_bits(a);`,
      ),
    );
    const wrong: string[] = [];
    for (const [c, [a, b]] of pairs.entries()) {
      const expected = [
        a < b ? 1 : 0,
        signed(a) < signed(b) ? 1 : 0,
        ...words64((a + b) & MASK),
        ...words64((a - b) & MASK),
        nearestF32Bits(a),
        nearestF32Bits(signed(a)),
      ];
      const actual = [...got.subarray(c * 8, c * 8 + 8)];
      if (actual.join() !== expected.join()) wrong.push(`a=${a} b=${b}: ${actual} ≠ ${expected}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    // The references agree with Math.fround wherever a double holds the integer exactly.
    expect(nearestF32Bits(2n ** 24n + 1n)).toBe(f32Bits(2 ** 24 + 1));
    expect(nearestF32Bits(-(2n ** 25n + 3n))).toBe(f32Bits(-(2 ** 25 + 3)));
  });

  it('awg_f64_to_f32_bits rounds as Math.fround: ties to even, overflow, subnormals, zeros, NaN', async () => {
    const next = xorshift(7);
    const ulp = 2 ** -23;
    const maxF32 = (2 - ulp) * 2 ** 127;
    const edges = [0, -0, 1, -1, 1 + ulp / 2, 1 + (3 * ulp) / 2, 1 + ulp / 2 + 2 ** -40, maxF32];
    const ranges = [maxF32 + 2 ** 103, maxF32 + 2 ** 104, 2 ** 128, 1e300, 2 ** -126, 2 ** -149, 2 ** -150];
    const tiny = [2 ** -150 * (1 + 2 ** -30), 3 * 2 ** -150, 1e-40, -1e-45, 2 ** -151, 5e-324, 1e-310];
    const special = [Infinity, -Infinity, NaN, -NaN];
    const random = Array.from({ length: 300 }, () => {
      const exponent = Math.floor(next() * 320) - 160; // around the f32 range and past both ends
      return (next() - 0.5) * 2 ** exponent;
    });
    const doubles = [...edges, ...ranges, ...tiny, ...special, ...random];
    const words = new Uint32Array(new Float64Array(doubles.flatMap((d) => [d, 0])).buffer);
    const got = await withDevice((device) =>
      perCase(device, words, 4, 1, 'out[o] = awg_f64_to_f32_bits(vec2<u32>(cases[i], cases[i + 1u]));'),
    );
    const wrong = doubles.flatMap((d, c) => {
      const bits = got[c] as number;
      if (Number.isNaN(d)) return (bits & 0x7fffffff) === 0x7fc00000 ? [] : [`NaN → ${bits.toString(16)}`];
      const expected = f32Bits(Math.fround(d));
      return bits === expected ? [] : [`${d}: ${bits.toString(16)} ≠ ${expected.toString(16)}`];
    });
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('double-single add and subtract stay within 2^-44 of the exact sum; awg_f32x2_value is f32(hi + lo)', async () => {
    const next = xorshift(11);
    const split = (v: number) => {
      const hi = Math.fround(v);
      return [hi, Math.fround(v - hi)] as const;
    };
    const pairs = Array.from({ length: 400 }, (_, i) => {
      const x = (next() - 0.5) * 2 ** Math.floor(next() * 40 - 20);
      // Every fourth pair nearly cancels: a naive double-single sum loses its low part there.
      const y =
        i % 4 === 0
          ? -x * (1 + (next() - 0.5) * 2 ** -30)
          : (next() - 0.5) * 2 ** Math.floor(next() * 40 - 20);
      return [split(x), split(y)] as const;
    });
    const words = Uint32Array.from(pairs.flatMap(([a, b]) => [...a, ...b].map(f32Bits)));
    const got = await withDevice((device) =>
      perCase(
        device,
        words,
        4,
        5,
        `let a = bitcast<vec2<f32>>(vec2<u32>(cases[i], cases[i + 1u]));
    let b = bitcast<vec2<f32>>(vec2<u32>(cases[i + 2u], cases[i + 3u]));
    let sum = bitcast<vec2<u32>>(awg_ds_add(a, b));
    let difference = bitcast<vec2<u32>>(awg_ds_sub(a, b));
    out[o] = sum.x; out[o + 1u] = sum.y; out[o + 2u] = difference.x; out[o + 3u] = difference.y;
    out[o + 4u] = bitcast<u32>(awg_f32x2_value(a));`,
      ),
    );
    const wrong: string[] = [];
    for (const [c, [[ah, al], [bh, bl]]] of pairs.entries()) {
      const r = (k: number) => fromBits(got[c * 5 + k] as number);
      // Both halves sum exactly in a double: f32s of nearby exponents.
      const checks = [
        [r(0) + r(1), ah + bh + (al + bl)],
        [r(2) + r(3), ah - bh + (al - bl)],
      ] as const;
      for (const [actual, exact] of checks) {
        if (Math.abs(actual - exact) > 2 ** -44 * Math.abs(exact)) wrong.push(`${actual} vs ${exact}`);
      }
      if (r(4) !== Math.fround(ah + al)) wrong.push(`f32x2 value ${r(4)} ≠ ${Math.fround(ah + al)}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
