import { defineConfig } from 'vitest/config';

// `vite build` makes the library: dist/index.js plus its worker chunk, every dependency bundled, so that a
// page can import it by URL with no bundler. `vite` (dev) serves the demo page, index.html.
export default defineConfig(({ command }) => ({
  // Relative, so that the worker chunk is found next to dist/index.js wherever dist/ is served from.
  base: command === 'build' ? './' : '/',
  // public/ holds the demo's data, which is no part of the library.
  publicDir: command === 'build' ? false : 'public',
  build: {
    target: 'es2022',
    lib: {
      entry: 'src/index.ts',
      formats: ['es'],
      fileName: () => 'index.js',
    },
    sourcemap: true,
    emptyOutDir: true,
  },
  // Declared up front so that the dev server does not discover them on the first visit and reload the page.
  optimizeDeps: { include: ['apache-arrow', 'apache-arrow/ipc/metadata/file', 'comlink', 'fzstd'] },
  worker: {
    format: 'es',
  },
  server: {
    host: 'localhost',
    port: 5173,
  },
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    // Property tests run hundreds of decodes; a 2-core CI machine needs more than the 5 s default.
    testTimeout: 60_000,
  },
}));
