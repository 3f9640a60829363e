import { expect, expectedColumns, test } from './support.js';

// What holds when a load fails for a reason of its own while the network is slower than the GPU path:
// the first failure decides the rejection, and the request is closed at once.

interface Connection {
  openedAt: number;
  closedAt: number | null;
}

test('a column cap exceeded while the body trickles rejects with LIMIT_EXCEEDED (not TRUNCATED), and the server sees the connection closed within 1 s', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle } = window.harness;
    const loader = await lib.createLoader({ maxBufferBytes: 1 << 20 });
    try {
      const before = await loader.memory();
      const conn = `trickle-${Math.random()}`;
      const { value: _, ...outcome } = await settle(
        loader.load(`/data/big-16.stream?throttle=4000000&conn=${conn}`),
      );
      const rejectedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const connection: Connection = await (await fetch(`/connections/${conn}`)).json();
      await loader.trim();
      return { outcome, rejectedAt, connection, before, after: await loader.memory() };
    } finally {
      await loader.close();
    }
  });
  expect(result.outcome).toMatchObject({ ok: false, code: 'LIMIT_EXCEEDED', details: { column: 'x' } });
  expect(result.connection.closedAt, 'the request was left open').not.toBeNull();
  expect((result.connection.closedAt as number) - result.rejectedAt).toBeLessThan(1000);
  expect([result.after.liveBuffers, result.after.liveBytes]).toEqual([
    result.before.liveBuffers,
    result.before.liveBytes,
  ]);
});

test('a load that fails while its server is stalled (no timeoutMs) closes the connection within 1 s', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, settle } = window.harness;
    // The first batch's columns already exceed the cap; the server sends two and a half batches (the
    // decoder reads one message ahead), then nothing more, ever.
    const loader = await lib.createLoader({ maxBufferBytes: 256 << 10 });
    try {
      const conn = `stall-${Math.random()}`;
      const { value: _, ...outcome } = await settle(
        loader.load(`/fault/stall/big-16.stream?after=6000000&conn=${conn}`),
      );
      const rejectedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const connection: Connection = await (await fetch(`/connections/${conn}`)).json();
      return { outcome, rejectedAt, connection };
    } finally {
      await loader.close();
    }
  });
  expect(result.outcome).toMatchObject({ ok: false, code: 'LIMIT_EXCEEDED' });
  expect(result.outcome.ms).toBeLessThan(10_000);
  expect(result.connection.closedAt, 'the request was left open').not.toBeNull();
  expect((result.connection.closedAt as number) - result.rejectedAt).toBeLessThan(1000);
});

test('a device lost while the body trickles rejects with DEVICE_LOST (not TRUNCATED) and closes the connection', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { settle, testLoader } = window.harness;
    const hooks = await testLoader();
    try {
      const conn = `lost-${Math.random()}`;
      let lost: Promise<void> | null = null;
      const { value: _, ...outcome } = await settle(
        hooks.loader.load(`/data/big-128.stream?throttle=8000000&conn=${conn}`, {
          onProgress: (p) => {
            if (!lost && p.rows > 0) lost = hooks.loseDevice();
          },
        }),
      );
      const rejectedAt = Date.now();
      await lost;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const connection: Connection = await (await fetch(`/connections/${conn}`)).json();
      return { outcome, rejectedAt, connection, lostCalled: lost !== null };
    } finally {
      await hooks.loader.close();
    }
  });
  expect(result.lostCalled).toBe(true);
  expect(result.outcome).toMatchObject({ ok: false, code: 'DEVICE_LOST', name: 'GpuError' });
  expect(result.connection.closedAt, 'the request was left open').not.toBeNull();
  expect((result.connection.closedAt as number) - result.rejectedAt).toBeLessThan(1000);
});

test('idle memory returns to its baseline: staging buffers go about a second after the last load, or at once with trim(), and come back for the next load', async ({
  harnessPage,
}) => {
  const result = await harnessPage.evaluate(async () => {
    const { lib, readAll } = window.harness;
    const loader = await lib.createLoader();
    try {
      const baseline = await loader.memory();
      const first = await loader.load('/data/many-batches.stream');
      await first.destroy();
      const rightAfter = await loader.memory();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const idle = await loader.memory();
      const second = await loader.load('/data/one-batch.stream');
      const digests = await readAll(second);
      const withTable = await loader.memory();
      await second.destroy();
      await loader.trim();
      const trimmed = await loader.memory();
      return { baseline, rightAfter, idle, withTable, trimmed, digests };
    } finally {
      await loader.close();
    }
  });
  const buffers = (m: { liveBuffers: number; liveBytes: number }) => [m.liveBuffers, m.liveBytes];
  // Right after the load the staging ring is still there (the next load may come soon).
  expect(result.rightAfter.liveBuffers).toBeGreaterThan(result.baseline.liveBuffers);
  expect(buffers(result.idle)).toEqual(buffers(result.baseline));
  expect(result.withTable.liveBuffers).toBeGreaterThan(result.baseline.liveBuffers);
  expect(buffers(result.trimmed)).toEqual(buffers(result.baseline));
  expect(result.digests).toEqual(expectedColumns('one-batch.stream'));
});
