import { mergeConfig } from 'vite';
import base from '../vite.config.js';
import { testRoutes } from './test-routes.js';

// The dev server the browser tests run against: the library from source (/src) or as built (/dist),
// fixtures under /data/ and faults under /fault/. CORS is decided per route, so Vite's own is off.
export default mergeConfig(base({ command: 'serve', mode: 'test' }), {
  plugins: [testRoutes()],
  server: {
    port: Number(process.env.E2E_PORT ?? 4173),
    strictPort: true,
    cors: false,
    host: 'localhost',
    hmr: false,
  },
  logLevel: 'warn',
});
