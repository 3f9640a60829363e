import { describe, expect, it } from 'vitest';
import { prepareSource, wireSource } from '../../src/client/load-source.js';
import { checkLoadOptions } from '../../src/client/options.js';
import type { LoadOptions, LoadSource } from '../../src/index.js';
import { errorOf, watchedStream } from '../support/web-streams.js';

// How `load` and `inspect` send each kind of source to the worker (the main-thread side, in Node).

const URL_SOURCE = 'http://localhost/data/t.arrow';

/** The error `wireSource` throws, or null. */
function refusal(
  source: unknown,
  options: LoadOptions = {},
): (Error & { code?: string; details?: unknown }) | null {
  try {
    wireSource(source as LoadSource, options, 'load');
    return null;
  } catch (error) {
    return error as Error;
  }
}

describe('wireSource', () => {
  it('names each source as errors will', () => {
    const names = [
      [URL_SOURCE, URL_SOURCE],
      [new URL(URL_SOURCE), URL_SOURCE],
      [
        new File([new Uint8Array(4)], 'trips.arrow', { type: 'application/octet-stream' }),
        'blob:trips.arrow',
      ],
      [new Blob(['a,b'], { type: 'text/csv' }), 'blob:text/csv'],
      [new Blob(['a,b']), 'blob'],
      [new ReadableStream(), 'stream'],
      [new Response(new Uint8Array(4)), 'response'],
      [new ArrayBuffer(4), 'bytes'],
      [new Uint8Array(4), 'bytes'],
    ] as const;
    for (const [source, name] of names) expect(wireSource(source, {}, 'load').url).toBe(name);
  });

  it('anything else is INVALID_ARGUMENT naming what was given', () => {
    for (const [source, got] of [
      [42, 'got 42'],
      [null, 'got null'],
      [undefined, 'got undefined'],
      [{ url: URL_SOURCE }, 'got an object'],
      [new Float32Array(4), 'got a Float32Array'],
      [new DataView(new ArrayBuffer(4)), 'got a DataView'],
      [[1, 2], 'got an array'],
    ] as const) {
      const error = refusal(source);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'source' } });
      expect(error?.message).toMatch(
        /^load: source must be a URL \(string or URL\), a Response, a ReadableStream/,
      );
      expect(error?.message.endsWith(got), `${error?.message} ends with ${got}`).toBe(true);
    }
  });

  it('an invalid URL is NETWORK naming it, as before', () => {
    expect(refusal('http://[::1')).toMatchObject({ code: 'NETWORK', details: { url: 'http://[::1' } });
  });

  it('a whole ArrayBuffer or Uint8Array is transferred: the same memory, no copy', () => {
    const buffer = new ArrayBuffer(16);
    const wire = wireSource(buffer, {}, 'load');
    expect(wire.transfer).toEqual([buffer]);
    expect(wire.source).toMatchObject({ kind: 'bytes' });
    expect(wire.source?.kind === 'bytes' && wire.source.bytes.buffer).toBe(buffer);
    const view = new Uint8Array(8);
    const fromView = wireSource(view, {}, 'load');
    expect(fromView.source?.kind === 'bytes' && fromView.source.bytes).toBe(view);
    expect(fromView.transfer).toEqual([view.buffer]);
  });

  it('keepBytes copies them, and a view of part of a buffer is always copied (only its bytes)', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i);
    const kept = wireSource(bytes.buffer, { keepBytes: true }, 'load');
    const copy = kept.source?.kind === 'bytes' ? kept.source.bytes : null;
    expect(copy?.buffer).not.toBe(bytes.buffer);
    expect(copy).toEqual(bytes);
    expect(kept.transfer).toEqual([copy?.buffer]);
    const part = bytes.subarray(8, 12);
    const partWire = wireSource(part, {}, 'load');
    const partCopy = partWire.source?.kind === 'bytes' ? partWire.source.bytes : null;
    expect(partCopy?.buffer).not.toBe(bytes.buffer);
    expect(partCopy?.buffer.byteLength).toBe(4);
    expect([...(partCopy ?? [])]).toEqual([8, 9, 10, 11]);
  });

  it('a detached ArrayBuffer (taken by an earlier load) is INVALID_ARGUMENT saying how to keep it', () => {
    const buffer = new ArrayBuffer(8);
    structuredClone(buffer, { transfer: [buffer] });
    const error = refusal(buffer);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'source' } });
    expect(error?.message).toContain('detached ArrayBuffer');
    expect(error?.message).toContain('keepBytes: true');
  });

  it('a stream is transferred; a locked one is INVALID_ARGUMENT', () => {
    const stream = new ReadableStream<Uint8Array>();
    const wire = wireSource(stream, {}, 'load');
    expect(wire).toMatchObject({ url: 'stream', source: { kind: 'stream', stream, bytesTotal: null } });
    expect(wire.transfer).toEqual([stream]);
    stream.getReader();
    expect(refusal(stream)).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'source', url: 'stream' },
    });
  });

  it("a Response's body is transferred with its Content-Length; a used one is INVALID_ARGUMENT", async () => {
    const response = new Response(new Uint8Array(40), { headers: { 'Content-Length': '40' } });
    const wire = wireSource(response, {}, 'load');
    expect(wire.source).toMatchObject({ kind: 'stream', stream: response.body, bytesTotal: 40 });
    expect(wire.transfer).toEqual([response.body]);
    const encoded = new Response('x', { headers: { 'Content-Length': '40', 'Content-Encoding': 'gzip' } });
    expect(wireSource(encoded, {}, 'load').source).toMatchObject({ bytesTotal: null });
    const used = new Response('x');
    await used.text();
    expect(refusal(used)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'source' } });
    expect(wireSource(new Response(null), {}, 'load').source).toMatchObject({ kind: 'bytes' });
  });

  it('a Response outside 2xx is HTTP_STATUS naming it, and its body is cancelled', async () => {
    const watched = watchedStream([new Uint8Array(4)], { hang: true });
    const error = refusal(new Response(watched.stream, { status: 401, statusText: 'Unauthorized' }));
    expect(error).toMatchObject({ code: 'HTTP_STATUS', details: { status: 401, url: 'response' } });
    expect(error?.message).toBe('response has HTTP status 401 Unauthorized');
    await Promise.resolve();
    expect(watched.cancelled).toBe(true);
  });

  it('request options go with a URL: headers as pairs, a form as text with its type, a view as its bytes', () => {
    const form = wireSource(
      URL_SOURCE,
      {
        method: 'post',
        headers: { Authorization: 'Bearer t' },
        credentials: 'include',
        body: new URLSearchParams({ q: 'a b' }),
      },
      'load',
    );
    expect(form.request).toEqual({
      method: 'POST',
      headers: [
        ['authorization', 'Bearer t'],
        ['content-type', 'application/x-www-form-urlencoded;charset=UTF-8'],
      ],
      credentials: 'include',
      body: 'q=a+b',
    });
    const bytes = Uint8Array.from([1, 2, 3, 4, 5]);
    const sent = wireSource(URL_SOURCE, { method: 'QUERY', body: bytes.subarray(1, 3) }, 'load').request;
    expect(sent?.method).toBe('QUERY');
    expect([...new Uint8Array(sent?.body as ArrayBuffer)]).toEqual([2, 3]);
    expect(wireSource(URL_SOURCE, {}, 'load').request).toBeUndefined();
    expect(wireSource(URL_SOURCE, { headers: [['X-Key', 's']] }, 'load').request).toEqual({
      method: 'GET',
      headers: [['x-key', 's']],
    });
  });

  it('a request option fetch would refuse, or one given with a source that is not a URL, is INVALID_ARGUMENT', () => {
    for (const [options, option, source] of [
      [{ body: 'select 1' }, 'body', URL_SOURCE],
      [{ method: 'HEAD', body: 'select 1' }, 'body', URL_SOURCE],
      [{ method: 'POST', body: { q: 1 } }, 'body', URL_SOURCE],
      [{ method: 'GET POST' }, 'method', URL_SOURCE],
      [{ method: 'TRACE' }, 'method', URL_SOURCE],
      [{ credentials: 'always' }, 'credentials', URL_SOURCE],
      [{ headers: [['bad header', 'x']] }, 'headers', URL_SOURCE],
      [{ headers: { 'X-Key': 's' } }, 'headers', new Blob([])],
      [{ method: 'POST' }, 'method', new ReadableStream()],
    ] as const) {
      const error = refusal(source, options as LoadOptions);
      expect(error, JSON.stringify(options)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option } });
    }
    expect(refusal(new Uint8Array(1), { body: 'x' })?.message).toBe(
      'load: body applies to a URL source only, and the source is bytes',
    );
  });
});

describe('prepareSource', () => {
  it('a stream source of a call refused for its options is cancelled: the call owned it', async () => {
    const watched = watchedStream([new Uint8Array(1)], { hang: true });
    const error = await errorOf(
      Promise.resolve().then(() => prepareSource(watched.stream, { timeoutMs: -1 }, checkLoadOptions)),
    );
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'timeoutMs' } });
    await Promise.resolve();
    expect(watched.cancelled).toBe(true);
    expect(watched.reason).toBe(error);
  });

  it('keepBytes must be a boolean', () => {
    expect(() =>
      prepareSource(new Uint8Array(1), { keepBytes: 'yes' as unknown as boolean }, checkLoadOptions),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { option: 'keepBytes' } }));
  });
});
