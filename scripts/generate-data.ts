// Writes the demo's default data set, public/demo.arrow, if it is absent.
import { DEMO_PATH, ensureDemoData } from './demo-data.js';

console.log((await ensureDemoData()) ? `wrote ${DEMO_PATH}` : `${DEMO_PATH} exists`);
