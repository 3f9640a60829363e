// Writes what `npm start` serves when it is absent: public/trips.arrow (the demo page's data set) and
// public/demo.arrow (the table the README's examples load).
import { DEMO_PATH, EXAMPLES_PATH, ensureDemoData, ensureExampleData } from './demo-data.js';

for (const [path, ensure] of [
  [DEMO_PATH, ensureDemoData],
  [EXAMPLES_PATH, ensureExampleData],
] as const) {
  const t0 = performance.now();
  const wrote = await ensure();
  console.log(
    wrote ? `wrote ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s` : `${path} exists`,
  );
}
