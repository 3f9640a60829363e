import { defineConfig } from '@playwright/test';

const chromium = process.env.CHROME_PATH ?? '/usr/bin/chromium';
// Another port lets several checkouts run their browser tests side by side.
const port = Number(process.env.E2E_PORT ?? 4173);

// WebGPU runs headless through SwiftShader; the flags keep Chromium off the (closed) network. Drawing
// into a WebGPU canvas (loader.render) also needs the compositor on SwiftShader: ANGLE and Vulkan both
// on it, so that Dawn's frames reach the page (without them a canvas's WebGPU context fails).
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--headless=new',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--enable-gpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  // One retry in CI: on SwiftShader a shared, loaded machine can stall a page for minutes; a retried test is
  // reported as flaky in the run's output.
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${port}`,
    launchOptions: { executablePath: chromium, args: CHROMIUM_ARGS },
  },
  projects: [
    { name: 'source', use: { browserName: 'chromium' }, metadata: { mode: 'source' } },
    // The demo page imports the library from source, and the dist surface check reads dist/ from disk
    // whatever the project: both run once, in the source project.
    {
      name: 'dist',
      use: { browserName: 'chromium' },
      metadata: { mode: 'dist' },
      testIgnore: /(demo|dist-surface)\.spec\.ts/,
    },
  ],
  webServer: {
    command: 'npx vite --config e2e/vite.config.ts',
    url: `http://localhost:${port}/e2e/pages/harness.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
