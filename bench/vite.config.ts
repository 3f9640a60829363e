import { createReadStream, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { mergeConfig, type Plugin } from 'vite';
import base from '../vite.config.js';
import { BENCH_DATA_DIR } from './inputs.js';

/** Serves generated inputs under /bench-data/ with their Content-Length, as a static host would. */
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
        if (!path.startsWith(BENCH_DATA_DIR)) return next();
        let size: number;
        try {
          size = statSync(path).size;
        } catch {
          return next();
        }
        res.writeHead(200, {
          'Content-Type': 'application/vnd.apache.arrow.file',
          'Content-Length': size,
          'Cache-Control': 'no-store',
        });
        createReadStream(path, { highWaterMark: 1 << 20 }).pipe(res);
      });
    },
  };
}

export default mergeConfig(base({ command: 'serve', mode: 'bench' }), {
  plugins: [benchData()],
  server: { port: 4174, strictPort: true, host: 'localhost', hmr: false },
  // Pre-bundled at start: a dependency discovered mid-run would make Vite reload the page.
  optimizeDeps: { include: ['apache-arrow', 'comlink', '@uwdata/flechette'] },
  logLevel: 'warn',
});
