import { statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { mergeConfig, type Plugin } from 'vite';
import { serveFile } from '../e2e/test-routes.js';
import base from '../vite.config.js';
import { BENCH_DATA_DIR } from './inputs.js';

/** Serves generated inputs under /bench-data/ as a static host would: Content-Length and Range requests. */
function benchData(): Plugin {
  return {
    name: 'arrow-webgpu-bench-data',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (!url.pathname.startsWith('/bench-data/')) return next();
        const path = normalize(
          join(BENCH_DATA_DIR, decodeURIComponent(url.pathname.slice('/bench-data/'.length))),
        );
        if (!path.startsWith(BENCH_DATA_DIR) || !statSync(path, { throwIfNoEntry: false })?.isFile())
          return next();
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
  server: { port: 4174, strictPort: true, host: 'localhost', hmr: false },
  // Pre-bundled at start: a dependency discovered mid-run would make Vite reload the page.
  optimizeDeps: { include: ['@uwdata/flechette'] },
  logLevel: 'warn',
});
