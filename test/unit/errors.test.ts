import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ArgumentError,
  ArrowGpuError,
  ColumnError,
  DecodeError,
  deserializeError,
  ERROR_CODES,
  GpuError,
  HttpStatusError,
  InternalError,
  LimitError,
  NetworkError,
  serializeError,
  UnsupportedTypeError,
  WorkerFailedError,
} from '../../src/core/errors.js';

const samples: ArrowGpuError[] = [
  new HttpStatusError('GET u answered HTTP 404', { url: 'u', status: 404 }),
  new NetworkError('broke', { url: 'u', byteOffset: 10 }),
  new DecodeError('NOT_ARROW', 'not arrow', { url: 'u' }),
  new DecodeError('TRUNCATED', 'short', { url: 'u', byteOffset: 5, expected: 8 }),
  new DecodeError('CORRUPT', 'bad', { url: 'u', batch: 3, byteOffset: 99 }),
  new UnsupportedTypeError('nope', { column: 's', arrowType: 'Utf8' }),
  new ColumnError('NO_SUCH_COLUMN', 'missing', { column: 'x' }),
  new ColumnError('SCHEMA_MISMATCH', 'mismatch', { column: 'x' }),
  new AbortError(),
  new GpuError('DEVICE_LOST', 'lost'),
  new GpuError('GPU_OUT_OF_MEMORY', 'oom', { actual: 1 }),
  new GpuError('NO_WEBGPU', 'no webgpu'),
  new GpuError('GPU_VALIDATION', 'invalid', { column: 'x' }),
  new LimitError('big', { expected: 1, actual: 2 }),
  new ArgumentError('bad option'),
  new InternalError('bug'),
  new WorkerFailedError('dead'),
];

describe('error hierarchy', () => {
  it('covers every code once, each an ArrowGpuError and an Error', () => {
    const codes = samples.map((e) => e.code);
    expect(codes.sort()).toEqual([...ERROR_CODES].sort());
    for (const error of samples) {
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(ArrowGpuError);
    }
  });

  it('names an abort AbortError, as fetch does', () => {
    expect(new AbortError().name).toBe('AbortError');
  });

  it('survives structured cloning with its class, code, message and details', () => {
    for (const error of samples) {
      const wire = structuredClone(serializeError(error));
      const back = deserializeError(wire);
      expect(back.constructor).toBe(error.constructor);
      expect(back.name).toBe(error.name);
      expect(back.code).toBe(error.code);
      expect(back.message).toBe(error.message);
      expect(back.details).toEqual(error.details);
    }
  });
});

describe("the README's error table", () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| `(\w+)`/gm)].map(([, code, name]) => ({
    code,
    name,
  }));

  it('lists every code once, with the class that carries it', () => {
    expect(rows.map((r) => r.code).sort()).toEqual([...ERROR_CODES].sort());
    for (const error of samples) {
      expect(rows.find((r) => r.code === error.code)?.name, error.code).toBe(error.name);
    }
  });
});
