import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize } from 'node:path';
import type { Plugin } from 'vite';

/**
 * Serves the `.arrow` files of `dir` at the site's root, as a static host does (Content-Length, Range,
 * no caching, 404 when absent), in 1 MiB reads. Vite's own public-file handler streams 64 KiB at a time, which caps a
 * local download near 100 MB/s: below what the loader takes in, so the demo would measure the dev server.
 */
export function serveArrow(dir: string): Plugin {
  const root = normalize(dir);
  return {
    name: 'arrow-webgpu-serve-arrow',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const { pathname } = new URL(req.url ?? '/', 'http://localhost');
        // Only files at the root: other paths (a test server's /data/ routes) are someone else's.
        if (!pathname.endsWith('.arrow') || pathname.lastIndexOf('/') !== 0) return next();
        const path = normalize(join(root, decodeURIComponent(pathname)));
        if (!path.startsWith(root)) return next();
        // A missing data file is a 404, not the SPA fallback's index.html.
        if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`${pathname}: no such file`);
          return;
        }
        sendFile(req, res, path);
      });
    },
  };
}

/** Writes `path` (or the `bytes=a-b` / `bytes=-n` range asked) to `res`, stopping when the client goes. */
function sendFile(req: IncomingMessage, res: ServerResponse, path: string): void {
  const size = statSync(path).size;
  const { start, end, range } = byteRange(req.headers.range, size);
  if (range && start > end) {
    res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    return;
  }
  res.writeHead(range ? 206 : 200, {
    'Content-Type': 'application/vnd.apache.arrow.stream',
    'Content-Length': end - start + 1,
    'Cache-Control': 'no-store',
    'Accept-Ranges': 'bytes',
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(path, { start, end, highWaterMark: 1 << 20 });
  stream.pipe(res);
  res.on('close', () => stream.destroy());
}

/** The bytes a `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`) asks of `size`; the whole without one. */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number; range: boolean } {
  const range = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!range) return { start: 0, end: size - 1, range: false };
  if (range[1] === '') return { start: Math.max(0, size - Number(range[2])), end: size - 1, range: true };
  const end = range[2] === '' ? size - 1 : Math.min(size - 1, Number(range[2]));
  return { start: Number(range[1]), end, range: true };
}
