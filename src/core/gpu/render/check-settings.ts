import { ArgumentError } from '../../errors.js';
import type { RenderSettings, RenderShader } from './render-settings.js';

const SETTINGS = new Set([
  'x',
  'y',
  'color',
  'size',
  'opacity',
  'pixelRatio',
  'domain',
  'background',
  'filterMode',
  'shader',
]);
const SHADER = new Set(['code', 'columns', 'vertices', 'topology', 'vertex', 'fragment']);
const TOPOLOGIES = ['triangle-list', 'triangle-strip', 'line-list', 'line-strip', 'point-list'];
/** Largest point side in CSS pixels: beyond it a point covers any canvas. */
export const MAX_POINT_SIZE = 4096;

/** The `INVALID_ARGUMENT` error for `option` of `call`, expected against actual. */
export function invalidSetting(
  call: string,
  option: string,
  expected: string,
  actual: unknown,
): ArgumentError {
  return new ArgumentError(`${call}: ${option} must be ${expected}, got ${show(actual)}`, { option });
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Throws `INVALID_ARGUMENT` naming the first setting of `call` (`render` or `update`) that is out of
 * range or unknown. Column names are checked against the table later (`NO_SUCH_COLUMN`).
 */
export function checkSettings(call: string, settings: unknown): asserts settings is RenderSettings {
  if (!isObject(settings)) throw invalidSetting(call, 'options', 'an object', settings);
  for (const key of Object.keys(settings)) {
    if (!SETTINGS.has(key) && !(call === 'render' && key === 'table')) {
      throw invalidSetting(call, key, `one of ${[...SETTINGS].join(', ')} (no such option)`, settings[key]);
    }
  }
  const { x, y, color, size, opacity, pixelRatio, filterMode } = settings;
  for (const [name, value] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (value !== undefined && typeof value !== 'string')
      throw invalidSetting(call, name, 'a column name', value);
  }
  if (color !== undefined && color !== null && typeof color !== 'string') {
    throw invalidSetting(call, 'color', 'a column name or null', color);
  }
  const positive = (v: unknown, max = Number.MAX_VALUE) => typeof v === 'number' && v > 0 && v <= max;
  if (size !== undefined && !positive(size, MAX_POINT_SIZE)) {
    throw invalidSetting(call, 'size', `a number of CSS pixels above 0, at most ${MAX_POINT_SIZE}`, size);
  }
  if (opacity !== undefined && !(typeof opacity === 'number' && opacity >= 0 && opacity <= 1)) {
    throw invalidSetting(call, 'opacity', 'a number from 0 to 1', opacity);
  }
  if (pixelRatio !== undefined && !positive(pixelRatio, 64)) {
    throw invalidSetting(call, 'pixelRatio', 'a number above 0, at most 64', pixelRatio);
  }
  if (filterMode !== undefined && filterMode !== 'dim' && filterMode !== 'hide') {
    throw invalidSetting(call, 'filterMode', '"dim" or "hide"', filterMode);
  }
  checkDomain(call, settings.domain);
  checkBackground(call, settings.background);
  if (settings.shader !== undefined) checkShader(call, settings.shader);
}

/** A `[low, high]` pair of finite, different numbers. */
export function isRange(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((v) => typeof v === 'number' && Number.isFinite(v)) &&
    value[0] !== value[1]
  );
}

function checkDomain(call: string, domain: unknown): void {
  if (domain === undefined) return;
  if (!isObject(domain)) throw invalidSetting(call, 'domain', 'an object of ranges { x, y, color }', domain);
  for (const [key, range] of Object.entries(domain)) {
    if (key !== 'x' && key !== 'y' && key !== 'color') {
      throw invalidSetting(call, `domain.${key}`, 'one of domain.x, domain.y, domain.color', range);
    }
    if (range !== undefined && !isRange(range)) {
      throw invalidSetting(call, `domain.${key}`, '[low, high]: two finite, different numbers', range);
    }
  }
}

function checkBackground(call: string, background: unknown): void {
  if (background === undefined) return;
  const ok =
    Array.isArray(background) &&
    background.length === 4 &&
    background.every((v) => typeof v === 'number' && v >= 0 && v <= 1);
  if (!ok) throw invalidSetting(call, 'background', '[r, g, b, a], each from 0 to 1', background);
}

function checkShader(call: string, shader: unknown): asserts shader is RenderShader {
  if (!isObject(shader)) throw invalidSetting(call, 'shader', 'an object { code, columns, … }', shader);
  for (const key of Object.keys(shader)) {
    if (!SHADER.has(key)) {
      throw invalidSetting(
        call,
        `shader.${key}`,
        `one of shader.${[...SHADER].join(', shader.')}`,
        shader[key],
      );
    }
  }
  const { code, columns, vertices, topology, vertex, fragment } = shader;
  if (typeof code !== 'string' || code.trim() === '') {
    throw invalidSetting(call, 'shader.code', 'WGSL source (a string)', code);
  }
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((c) => typeof c === 'string'))) {
    throw invalidSetting(call, 'shader.columns', 'an array of column names', columns);
  }
  if (vertices !== undefined && !(Number.isSafeInteger(vertices) && (vertices as number) >= 1)) {
    throw invalidSetting(call, 'shader.vertices', 'an integer of at least 1', vertices);
  }
  if (topology !== undefined && !TOPOLOGIES.includes(topology as string)) {
    throw invalidSetting(call, 'shader.topology', TOPOLOGIES.map((t) => `"${t}"`).join(', '), topology);
  }
  for (const [name, value] of [
    ['shader.vertex', vertex],
    ['shader.fragment', fragment],
  ] as const) {
    if (value !== undefined && !(typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value))) {
      throw invalidSetting(call, name, 'a WGSL entry point name', value);
    }
  }
}
