// Writes the demo's default data set, public/trips.arrow, if it is absent.
import { DEMO_PATH, ensureDemoData } from './demo-data.js';

const t0 = performance.now();
const wrote = await ensureDemoData();
console.log(
  wrote ? `wrote ${DEMO_PATH} in ${((performance.now() - t0) / 1000).toFixed(1)} s` : `${DEMO_PATH} exists`,
);
