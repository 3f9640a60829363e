import { statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { mergeConfig, type Plugin } from 'vite';
import { handleLive } from '../e2e/live-route.js';
import { serveFile } from '../e2e/test-routes.js';
import base from '../vite.config.js';
import { BENCH_DATA_DIR, BENCH_PORT } from './inputs.js';

/** An input's path, or `null` for a name outside the inputs folder or no file. */
function inputPath(name: string): string | null {
  const path = normalize(join(BENCH_DATA_DIR, decodeURIComponent(name)));
  if (!path.startsWith(BENCH_DATA_DIR) || !statSync(path, { throwIfNoEntry: false })?.isFile()) return null;
  return path;
}

/**
 * Serves generated inputs under /bench-data/ as a static host would: Content-Length and Range requests;
 * and stream inputs live, a batch at a time, under /live/ (see e2e/live-route.ts).
 */
function benchData(): Plugin {
  return {
    name: 'arrow-webgpu-bench-data',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const headers = {
          'Content-Type': 'application/vnd.apache.arrow.stream',
          'Cache-Control': 'no-store',
        };
        if (handleLive(req, res, inputPath, headers)) return;
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (!url.pathname.startsWith('/bench-data/')) return next();
        const path = inputPath(url.pathname.slice('/bench-data/'.length));
        if (!path) return next();
        serveFile(
          req,
          res,
          path,
          { 'Content-Type': 'application/vnd.apache.arrow.file', 'Cache-Control': 'no-store' },
          {
            chunkBytes: 1 << 20,
          },
        );
      });
    },
  };
}

export default mergeConfig(base({ command: 'serve', mode: 'bench' }), {
  plugins: [benchData()],
  server: { port: BENCH_PORT, strictPort: true, host: 'localhost', hmr: false },
  // Pre-bundled at start: a dependency discovered mid-run would make Vite reload the page.
  optimizeDeps: { include: ['@uwdata/flechette'] },
  logLevel: 'warn',
});
