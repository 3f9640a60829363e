import { tableFromIPC, type Vector } from 'apache-arrow';
import type { ColumnDigest } from './pages/harness.js';
import { expect, expectedColumns, expectedPrefix, fixtureBytes, test } from './support.js';

// `loader.open` on a live stream (e2e/live-route.ts): the server sends a batch only when the page asks
// for it, so the table must show each batch's rows before the next batch even exists on the wire.

const FIXTURE = 'many-batches.stream'; // 61 batches of 1000 rows (the last 7), 8 columns
const BATCH_ROWS = 1000;

/** What the page saw at one step of a live load. */
interface Step {
  numRows: number;
  batchesSeen: number[];
  /** Groups the server had sent (the schema, then one a batch) when the page looked. */
  sent: number;
  chunkRows: number;
  digests: ColumnDigest[];
  describe: {
    rows: number;
    count: number;
    nullCount: number;
    min: number | null;
    max: number | null;
    sum: string;
  };
}

/** The i32 column's summary over the first `rows` rows, computed here from the source. */
function i32Summary(rows: number) {
  const vector = tableFromIPC(fixtureBytes(FIXTURE)).getChild('i32') as Vector;
  let [count, min, max, sum] = [0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0n];
  for (let i = 0; i < rows; i++) {
    const v = vector.get(i) as number | null;
    if (v === null) continue;
    [count, min, max, sum] = [count + 1, Math.min(min, v), Math.max(max, v), sum + BigInt(v)];
  }
  return { rows, count, nullCount: rows - count, min, max, sum: String(sum) };
}

test('open resolves at the schema; each batch is on the GPU, read back and queried, before the next is sent', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(
    async ({ fixture }) => {
      const { lib, readAll } = window.harness;
      const loader = await lib.createLoader();
      const id = `open-${Math.random()}`;
      const log = async () => (await (await fetch(`/live-log/${id}`)).json()) as { sent: number[] };
      const release = (count: number | 'all' = 1) => fetch(`/live-next/${id}?count=${count}`);
      try {
        const baseline = await loader.memory();
        const seen: number[] = [];
        let wake = () => {};
        const table = await loader.open(`/live/${fixture}?id=${id}&first=1`, {
          onBatch: ({ batch }) => {
            seen.push(batch);
            wake();
          },
        });
        const atOpen = { numRows: table.numRows, sent: (await log()).sent.length };
        const steps: Step[] = [];
        for (let k = 0; k < 3; k++) {
          const landed = new Promise<void>((resolve) => (wake = resolve));
          await release();
          await landed;
          const { rows, count, nullCount, min, max, sum } = await table.describe('i32');
          steps.push({
            numRows: table.numRows,
            batchesSeen: [...seen],
            sent: (await log()).sent.length,
            chunkRows: table.columns[0]?.chunks.reduce((n, c) => n + c.rows, 0) ?? -1,
            digests: await readAll(table),
            describe: { rows, count, nullCount, min: min as number, max: max as number, sum: String(sum) },
          });
        }
        await release('all');
        const done = await table.done;
        const final = {
          same: done === table,
          numRows: table.numRows,
          batchesSeen: seen.length,
          inOrder: seen.every((b, i) => b === i),
          digests: await readAll(table),
        };
        await table.destroy();
        await loader.trim();
        return { atOpen, steps, final, baseline, after: await loader.memory() };
      } finally {
        await loader.close();
      }
    },
    { fixture: FIXTURE },
  );
  // Open answered with the schema alone on the wire.
  expect(result.atOpen).toEqual({ numRows: 0, sent: 1 });
  for (const [k, step] of result.steps.entries()) {
    const rows = (k + 1) * BATCH_ROWS;
    expect(step.numRows, `rows after batch ${k}`).toBe(rows);
    expect(step.batchesSeen).toEqual(Array.from({ length: k + 1 }, (_, i) => i));
    expect(step.sent, `the server had sent batch ${k} and no further`).toBe(k + 2);
    expect(step.chunkRows).toBe(rows);
    expect(step.digests, `columns after batch ${k}`).toEqual(expectedPrefix(FIXTURE, rows));
    expect(step.describe).toEqual(i32Summary(rows));
  }
  expect(result.final).toMatchObject({ same: true, numRows: 60_007, batchesSeen: 61, inOrder: true });
  expect(result.final.digests).toEqual(expectedColumns(FIXTURE));
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.baseline.liveBuffers,
    result.baseline.liveBytes,
  ]);
});

test('an open cancelled mid-load (signal, or destroy) rejects done with ABORTED, closes the request and leaves nothing behind', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(
    async ({ fixture }) => {
      const { lib, settle } = window.harness;
      const loader = await lib.createLoader();
      try {
        const baseline = await loader.memory();
        const outcomes = [];
        for (const how of ['signal', 'destroy'] as const) {
          const id = `cancel-${how}-${Math.random()}`;
          const controller = new AbortController();
          let landed = () => {};
          const first = new Promise<void>((resolve) => (landed = resolve));
          const table = await loader.open(`/live/${fixture}?id=${id}&conn=${id}`, {
            signal: controller.signal,
            onBatch: () => landed(),
          });
          await first;
          const rowsBefore = table.numRows;
          if (how === 'signal') controller.abort();
          else await table.destroy();
          const done = await settle(table.done);
          const read = await settle(table.readColumn('f64'));
          await new Promise((resolve) => setTimeout(resolve, 200));
          const connection = await (await fetch(`/connections/${id}`)).json();
          outcomes.push({ how, rowsBefore, done, read, closed: connection?.closedAt !== null });
        }
        await loader.trim();
        return { outcomes, baseline, after: await loader.memory() };
      } finally {
        await loader.close();
      }
    },
    { fixture: FIXTURE },
  );
  for (const outcome of result.outcomes) {
    expect(outcome.rowsBefore, outcome.how).toBe(BATCH_ROWS);
    expect(outcome.done, outcome.how).toMatchObject({ ok: false, code: 'ABORTED', isArrowGpuError: true });
    expect(outcome.read, outcome.how).toMatchObject({ ok: false, code: 'NO_SUCH_COLUMN' });
    expect(outcome.closed, `${outcome.how}: the request was closed`).toBe(true);
  }
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.baseline.liveBuffers,
    result.baseline.liveBytes,
  ]);
});

test('an open that fails mid-load rejects done with the typed error, and its table is unusable, saying why', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(
    async ({ fixture }) => {
      const { lib, settle } = window.harness;
      // 8 KiB a column: 2048 rows of 4 bytes, so the third batch of 1000 rows is over the cap.
      const loader = await lib.createLoader({ maxBufferBytes: 8 << 10 });
      try {
        const baseline = await loader.memory();
        const id = `fail-${Math.random()}`;
        const seen: number[] = [];
        let wake = () => {};
        const landed = () => new Promise<void>((resolve) => (wake = resolve));
        let next = landed();
        const table = await loader.open(`/live/${fixture}?id=${id}`, {
          onBatch: ({ rows }) => {
            seen.push(rows);
            wake();
          },
        });
        await next; // the first batch, sent with the schema
        next = landed();
        await fetch(`/live-next/${id}`);
        await next;
        await fetch(`/live-next/${id}?count=all`); // the third batch is over the cap
        const done = await settle(table.done);
        const read = await settle(table.readColumn('f32'));
        const describe = await settle(table.describe('i32'));
        const missing = await settle(loader.open('/fault/status/404'));
        await loader.trim();
        return { done, read, describe, seen, missing, baseline, after: await loader.memory() };
      } finally {
        await loader.close();
      }
    },
    { fixture: FIXTURE },
  );
  expect(result.done).toMatchObject({
    ok: false,
    code: 'LIMIT_EXCEEDED',
    isArrowGpuError: true,
    details: { expected: 8 << 10, actual: 3000 * 4 },
  });
  expect(result.seen).toEqual([1000, 2000]);
  for (const use of [result.read, result.describe]) {
    expect(use).toMatchObject({ ok: false, code: 'NO_SUCH_COLUMN' });
    expect(use.message).toContain('its load failed with LIMIT_EXCEEDED');
  }
  // A source that fails before its schema fails open itself, as it fails load.
  expect(result.missing).toMatchObject({ ok: false, code: 'HTTP_STATUS', details: { status: 404 } });
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.baseline.liveBuffers,
    result.baseline.liveBytes,
  ]);
});
