import { describe, expect, it } from 'vitest';
import { createLoader } from '../../src/client/create-loader.js';
import { checkLoaderOptions, checkLoadOptions, checkOpenOptions } from '../../src/client/options.js';
import { ArgumentError } from '../../src/core/errors.js';

/** The error `check` throws for `options`, or null. */
function refusal(check: (options: never) => void, options: unknown): ArgumentError | null {
  try {
    check(options as never);
    return null;
  } catch (error) {
    return error as ArgumentError;
  }
}

describe('option checks', () => {
  it.each([
    [{ maxBufferBytes: 3 }, 'maxBufferBytes', /at least 4, got 3$/, { expected: 4, actual: 3 }],
    [{ maxBufferBytes: 4.5 }, 'maxBufferBytes', /got 4\.5$/, { expected: 4, actual: 4.5 }],
    [{ maxBufferBytes: Number.NaN }, 'maxBufferBytes', /got NaN$/, { expected: 4 }],
    [{ maxBufferBytes: 2 ** 60 }, 'maxBufferBytes', /got 1152921504606847000$/, { expected: 4 }],
    [{ maxBufferBytes: '16MB' }, 'maxBufferBytes', /got "16MB"$/, { expected: 4 }],
    [{ upload: 'fast' }, 'upload', /must be "staging" or "writeBuffer", got "fast"$/, {}],
    [{ upload: null }, 'upload', /got null$/, {}],
    [{ workerUrl: 42 }, 'workerUrl', /a string or a URL, got 42$/, { actual: 42 }],
    [{ device: {} }, 'device', /a GPUDevice \(from adapter.requestDevice\(\)\), got /, {}],
    [{ device: 'gpu' }, 'device', /a GPUDevice .*, got "gpu"$/, {}],
    [{ decodeWorkers: -1 }, 'decodeWorkers', /an integer from 0 to 16, got -1$/, { actual: -1 }],
    [{ decodeWorkers: 17 }, 'decodeWorkers', /an integer from 0 to 16, got 17$/, { actual: 17 }],
    [{ readWorker: 'yes' }, 'readWorker', /a boolean, got "yes"$/, {}],
    [{ readWorker: 1 }, 'readWorker', /a boolean, got 1$/, {}],
    [null, 'options', /an object, got null$/, {}],
  ])('createLoader(%o) is INVALID_ARGUMENT naming %s', (options, option, message, details) => {
    const error = refusal(checkLoaderOptions, options);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error?.code).toBe('INVALID_ARGUMENT');
    expect(error?.message).toMatch(new RegExp(`^createLoader: ${option} must be`));
    expect(error?.message).toMatch(message);
    expect(error?.details).toMatchObject({ option, ...details });
  });

  it.each([
    [{ upload: 'Staging' }, 'upload'],
    [{ columns: 'x' }, 'columns'],
    [{ columns: ['x', 7] }, 'columns[1]'],
    [{ signal: {} }, 'signal'],
    [{ onProgress: 'log' }, 'onProgress'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs'],
    [{ timeoutMs: '100' }, 'timeoutMs'],
    [{ decodeWorkers: 2.5 }, 'decodeWorkers'],
    [{ decodeWorkers: '4' }, 'decodeWorkers'],
  ])('load(url, %o) is INVALID_ARGUMENT naming %s', (options, option) => {
    const error = refusal(checkLoadOptions, options);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error?.message).toMatch(/^load: /);
    expect(error?.details.option).toBe(option);
  });

  it.each([
    [{ onBatch: 'log' }, 'onBatch', /^open: onBatch must be a function, got "log"$/],
    [{ onBatch: () => {}, timeoutMs: -1 }, 'timeoutMs', /^load: timeoutMs must be/],
  ])(
    'open(url, %o) is INVALID_ARGUMENT naming %s, its other options checked as load checks them',
    (options, option, message) => {
      const error = refusal(checkOpenOptions, options);
      expect(error).toBeInstanceOf(ArgumentError);
      expect(error?.message).toMatch(message);
      expect(error?.details.option).toBe(option);
    },
  );

  it('accepts open(url, { onBatch })', () => {
    expect(refusal(checkOpenOptions, { onBatch: () => {}, rows: 10 })).toBeNull();
  });

  it.each([
    [{}],
    [{ upload: 'staging', maxBufferBytes: 4, workerUrl: '/w.js' }],
    [{ upload: 'writeBuffer', maxBufferBytes: 2 ** 40, workerUrl: new URL('http://x/w.js') }],
  ])('accepts createLoader(%o)', (options) => {
    expect(refusal(checkLoaderOptions, options)).toBeNull();
  });

  it.each([
    [{}],
    [{ columns: [], upload: 'writeBuffer', timeoutMs: 0.5 }],
    [{ columns: ['a'], signal: new AbortController().signal, onProgress: () => {} }],
  ])('accepts load(url, %o)', (options) => {
    expect(refusal(checkLoadOptions, options)).toBeNull();
  });

  it('createLoader rejects a bad option before it starts a worker (there is none in Node)', async () => {
    const error = await createLoader({ maxBufferBytes: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'maxBufferBytes' } });
  });
});
