import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize } from 'node:path';
import type { Plugin } from 'vite';
import { byteRange } from '../scripts/serve-arrow.js';
import { mutate } from '../test/support/mutate.js';
import { FIXTURE_DIR } from './fixtures.js';
import { handleLive } from './live-route.js';

type Next = () => unknown;

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Range' };

function fixturePath(name: string): string | null {
  const path = normalize(join(FIXTURE_DIR, decodeURIComponent(name)));
  if (!path.startsWith(FIXTURE_DIR)) return null;
  try {
    return statSync(path).isFile() ? path : null;
  } catch {
    return null;
  }
}

/** Serves a file with Range support (`bytes=a-b`, `bytes=-n`) and optional throttling, as a static host does. */
export function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  headers: Record<string, string>,
  { bytesPerSecond = 0, chunkBytes = 64 << 10 }: { bytesPerSecond?: number; chunkBytes?: number } = {},
) {
  const size = statSync(path).size;
  const { start, end, range } = byteRange(req.headers.range, size);
  if (range) {
    res.writeHead(206, {
      ...headers,
      'Content-Range': `bytes ${start}-${end}/${size}`,
      'Content-Length': end - start + 1,
    });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': size });
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(path, { start, end, highWaterMark: chunkBytes });
  if (bytesPerSecond <= 0) return void stream.pipe(res);
  // Throttled: one 64 KiB chunk per interval.
  stream.on('data', (chunk) => {
    res.write(chunk);
    stream.pause();
    setTimeout(() => stream.resume(), (1000 * chunk.length) / bytesPerSecond);
  });
  stream.on('end', () => res.end());
  res.on('close', () => stream.destroy());
}

/** When the server saw each tracked connection open and close (`?conn=ID` on any route), in epoch ms. */
const connections = new Map<string, { openedAt: number; closedAt: number | null }>();

/** Records when the response to a request with `?conn=ID` ends, by completion or by the client closing it. */
function track(url: URL, res: ServerResponse): void {
  const id = url.searchParams.get('conn');
  if (!id) return;
  const entry = { openedAt: Date.now(), closedAt: null as number | null };
  connections.set(id, entry);
  res.on('close', () => {
    entry.closedAt ??= Date.now();
  });
}

/** The Arrow project's integration files (test/data/arrow-testing), served under /arrow-testing/. */
const ARROW_TESTING_DIR = join(import.meta.dirname, '../test/data/arrow-testing');

/** The API key `/auth/` routes require in `x-api-key`. */
export const TEST_API_KEY = 'test-key-1234';

/** A request's body, as text. */
async function bodyText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `/auth/<fixture>`, as a data API behind a key does: every request (a footer's Range reads too) needs
 * `x-api-key` (else 401). A GET is served as a file is; a POST (a query) must carry the body given in
 * `?expect=` (and a Content-Type starting with `?type=`; else 400, saying what came) and is answered
 * with the fixture as an Arrow stream.
 */
async function serveAuthenticated(req: IncomingMessage, res: ServerResponse, url: URL, path: string) {
  const headers = { 'Content-Type': 'application/vnd.apache.arrow.stream', 'Cache-Control': 'no-store' };
  if (req.headers['x-api-key'] !== TEST_API_KEY) {
    res.writeHead(401, { 'Content-Type': 'text/plain' });
    return void res.end(`missing or wrong x-api-key (${req.method} ${req.headers.range ?? 'no range'})`);
  }
  if (req.method === 'GET' || req.method === 'HEAD') return serveFile(req, res, path, headers);
  const body = await bodyText(req);
  const expected = url.searchParams.get('expect') ?? '';
  const type = req.headers['content-type'] ?? '';
  const expectedType = url.searchParams.get('type') ?? '';
  if (req.method !== 'POST' || body !== expected || !type.startsWith(expectedType)) {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    return void res.end(
      `expected POST of ${expectedType || 'any type'} with body ${JSON.stringify(expected)}, ` +
        `got ${req.method} of ${type} with ${JSON.stringify(body)}`,
    );
  }
  const bytes = readFileSync(path);
  res.writeHead(200, { ...headers, 'Content-Length': bytes.length });
  res.end(bytes);
}

/**
 * Routes the browser tests use: fixtures under /data/ (`?throttle=bytesPerSecond`), and faults under
 * /fault/: `status/<code>`, `html`, `hang` (no answer at all), `nocors/<fixture>` (no CORS headers),
 * `cut/<fixture>?after=N` (connection closed after N bytes), `stall/<fixture>?after=N` (silence after
 * N bytes), `truncate/<fixture>?bytes=N`, `/connections/ID` (when a request made with `?conn=ID` was closed), `length/<fixture>?claim=N` (a Content-Length that lies),
 * `xor/<fixture>?at=N&mask=M` (one byte changed), `mutate/<fixture>?seed=N`, `random?bytes=N&seed=S`.
 * Also `/auth/<fixture>` (a key in `x-api-key`, a query by POST: see `serveAuthenticated`) and
 * `/arrow-testing/<case>` (files another Arrow implementation wrote);
 * and live streams: `/live/<stream fixture>?id=ID` sent a batch at a time (see live-route.ts).
 */
export function handleTestRoute(req: IncomingMessage, res: ServerResponse, next: Next): unknown {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  const headers = {
    ...CORS,
    'Content-Type': 'application/vnd.apache.arrow.stream',
    'Cache-Control': 'no-store',
  };
  track(url, res);
  if (parts[0] === 'connections' && parts[1]) {
    // `/connections/ID`: what the server saw of a tracked connection, as JSON.
    res.writeHead(200, { ...CORS, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    return void res.end(JSON.stringify(connections.get(parts[1]) ?? null));
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, HEAD' });
    return void res.end();
  }
  if (parts[0] === 'data' && parts[1]) {
    const path = fixturePath(parts.slice(1).join('/'));
    if (!path) return next();
    return serveFile(req, res, path, headers, {
      bytesPerSecond: Number(url.searchParams.get('throttle') ?? 0),
    });
  }
  if (parts[0] === 'auth' && parts[1]) {
    const path = fixturePath(parts.slice(1).join('/'));
    if (!path) return next();
    return void serveAuthenticated(req, res, url, path).catch(() => res.destroy());
  }
  if (parts[0] === 'arrow-testing' && parts[1]) {
    const path = normalize(join(ARROW_TESTING_DIR, ...parts.slice(1).map(decodeURIComponent)));
    if (!path.startsWith(ARROW_TESTING_DIR) || !statSync(path, { throwIfNoEntry: false })?.isFile()) {
      return next();
    }
    return serveFile(req, res, path, headers);
  }
  if (handleLive(req, res, fixturePath, headers)) return;
  if (parts[0] !== 'fault') return next();
  const kind = parts[1];
  const path = parts[2] ? fixturePath(parts.slice(2).join('/')) : null;
  switch (kind) {
    case 'status': {
      const status = Number(parts[2] ?? 500);
      res.writeHead(status, { ...CORS, 'Content-Type': 'text/html' });
      return void res.end(`<!doctype html><title>${status}</title>`);
    }
    case 'html':
      res.writeHead(200, { ...CORS, 'Content-Type': 'text/html' });
      return void res.end(
        '<!doctype html><html><head><title>Dashboard</title></head><body>Login</body></html>',
      );
    case 'hang':
      // Accepts the request and never answers: not even headers.
      setTimeout(() => req.socket.destroy(), 30_000).unref();
      return;
    case 'length': {
      // Claims a Content-Length of `claim` bytes, sends the real file, then holds the connection.
      if (!path) return next();
      res.writeHead(200, { ...headers, 'Content-Length': Number(url.searchParams.get('claim')) });
      res.write(readFileSync(path));
      setTimeout(() => req.socket.destroy(), 30_000).unref();
      return;
    }
    case 'xor': {
      // One byte changed: the byte at `at` XOR `mask` (default 0x80).
      if (!path) return next();
      const bytes = readFileSync(path);
      const at = Number(url.searchParams.get('at'));
      bytes[at] = (bytes[at] as number) ^ Number(url.searchParams.get('mask') ?? 0x80);
      res.writeHead(200, { ...headers, 'Content-Length': bytes.length });
      return void res.end(bytes);
    }
    case 'nocors':
      if (!path) return next();
      return serveFile(req, res, path, { 'Content-Type': 'application/octet-stream' });
    case 'cut':
    case 'stall': {
      if (!path) return next();
      const bytes = readFileSync(path);
      const after = Math.min(bytes.length - 1, Number(url.searchParams.get('after') ?? bytes.length >> 1));
      res.writeHead(200, { ...headers, 'Content-Length': bytes.length });
      res.write(bytes.subarray(0, after));
      if (kind === 'cut') setTimeout(() => req.socket.destroy(), 50);
      else setTimeout(() => req.socket.destroy(), 30_000).unref();
      return;
    }
    case 'truncate': {
      if (!path) return next();
      const bytes = readFileSync(path);
      const keep = bytes.subarray(0, Number(url.searchParams.get('bytes') ?? bytes.length >> 1));
      res.writeHead(200, { ...headers, 'Content-Length': keep.length });
      return void res.end(keep);
    }
    case 'mutate': {
      if (!path) return next();
      const bytes = mutate(new Uint8Array(readFileSync(path)), Number(url.searchParams.get('seed') ?? 1));
      res.writeHead(200, { ...headers, 'Content-Length': bytes.length });
      return void res.end(bytes);
    }
    case 'random': {
      const n = Number(url.searchParams.get('bytes') ?? 4096);
      const out = new Uint8Array(n);
      let x = Number(url.searchParams.get('seed') ?? 7) >>> 0 || 1;
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = x & 0xff;
      }
      res.writeHead(200, { ...headers, 'Content-Length': n });
      return void res.end(out);
    }
    default:
      return next();
  }
}

/** Vite plugin that mounts the test routes on the dev server. */
export function testRoutes(): Plugin {
  return {
    name: 'arrow-webgpu-test-routes',
    configureServer(server) {
      server.middlewares.use(handleTestRoute);
    },
  };
}
