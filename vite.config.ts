import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { serveArrow } from './scripts/serve-arrow.js';

/**
 * Where Dawn (the `webgpu` package, in the unit tests) finds a Vulkan loader and driver on a machine
 * without a GPU: Chromium's own libvulkan and SwiftShader, beside the binary that CHROME_PATH names (the
 * browser tests' override) or in Debian's /usr/lib/chromium. The dynamic loader reads LD_LIBRARY_PATH
 * only when a process starts, so setting it inside a test is too late: `test.env` puts both variables
 * in the environment the test worker processes are forked with. A VK_ICD_FILENAMES already set (a real
 * GPU's driver) is kept.
 */
function dawnEnv(): Record<string, string> {
  const chrome = process.env.CHROME_PATH;
  const dirs = [chrome && existsSync(chrome) ? dirname(realpathSync(chrome)) : '', '/usr/lib/chromium'];
  const dir = dirs.find((d) => d !== '' && existsSync(join(d, 'vk_swiftshader_icd.json')));
  if (dir === undefined) return {};
  return {
    LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES || join(dir, 'vk_swiftshader_icd.json'),
  };
}

// `vite build` makes the library: dist/index.js plus its worker chunk, every dependency bundled, so that a
// page can import it by URL with no bundler. `vite` (dev) serves the demo page, index.html.
export default defineConfig(({ command }) => ({
  // Relative, so that the worker chunk is found next to dist/index.js wherever dist/ is served from.
  base: command === 'build' ? './' : '/',
  // public/ holds the demo's data, which is no part of the library; its Arrow files are served in large
  // reads so that the demo measures the loader, not the dev server (scripts/serve-arrow.ts).
  publicDir: command === 'build' ? false : 'public',
  plugins: command === 'build' ? [] : [serveArrow(join(import.meta.dirname, 'public'))],
  build: {
    target: 'es2022',
    lib: {
      entry: 'src/index.ts',
      formats: ['es'],
      fileName: () => 'index.js',
    },
    sourcemap: true,
    emptyOutDir: true,
    rolldownOptions: {
      // apache-arrow, which `readRows` imports on its first call, goes beside the worker chunk.
      output: { chunkFileNames: 'assets/[name]-[hash].js' },
    },
  },
  // Declared up front so that the dev server does not discover them on the first visit and reload the page.
  optimizeDeps: {
    include: [
      'apache-arrow',
      'apache-arrow/ipc/metadata/file',
      'apache-arrow/ipc/metadata/message',
      'comlink',
      'fzstd',
    ],
  },
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
    env: dawnEnv(),
    // Property tests run hundreds of decodes; a 2-core CI machine needs more than the 5 s default.
    testTimeout: 60_000,
  },
}));
