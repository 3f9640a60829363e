import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { DEMO_SPEC } from '../scripts/demo-data.js';
import { expect, test } from './support.js';

// The README's `open` example, as written there (TypeScript, compiled here), run on the page against
// the demo data: it must draw every row while they stream in and end once the load has ended.

/** The code block that follows `marker` in the README. */
function readmeBlock(marker: string): string {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const after = readme.slice(readme.indexOf(marker));
  const block = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
  if (!block) throw new Error(`no code block after "${marker}" in README.md`);
  return block;
}

test('the README example of open draws the rows as they stream in, and ends with the load', async ({
  harnessPage,
}) => {
  const source = readmeBlock('A page that draws the rows as they stream in').replace(
    "import { createLoader } from 'arrow-webgpu';",
    'const { createLoader } = window.harness.lib;',
  );
  // Run as the body of an async function, which returns what the example leaves behind.
  const body = ts.transpileModule(
    `${source}\nreturn { rows: table.numRows, drawn, status: status.textContent };`,
    {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None },
    },
  ).outputText;
  const result = await harnessPage.evaluate(async (code) => {
    const canvas = document.body.appendChild(
      Object.assign(document.createElement('canvas'), { width: 600, height: 600 }),
    );
    const status = document.body.appendChild(Object.assign(document.createElement('p'), { id: 'status' }));
    const run = new Function(`return (async () => {\n${code}\n})();`) as () => Promise<{
      rows: number;
      drawn: number;
      status: string;
    }>;
    try {
      const ran = await run();
      const pixels = canvas.getContext('2d')?.getImageData(0, 0, 600, 600).data ?? new Uint8ClampedArray(0);
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] as number) > 0) painted++;
      return { ...ran, painted };
    } finally {
      canvas.remove();
      status.remove();
    }
  }, body);
  expect(result.rows).toBe(DEMO_SPEC.rows);
  expect(result.drawn).toBe(DEMO_SPEC.rows);
  expect(result.status).toBe(`batch 63: ${DEMO_SPEC.rows.toLocaleString()} rows on the GPU`);
  expect(result.painted).toBeGreaterThan(10_000);
});
