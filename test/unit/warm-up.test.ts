import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { warmUpDecoder, warmUpTableBytes } from '../../src/core/ipc/warm-up.js';

describe('decoder warm-up', () => {
  it('frames and decodes its one-row stream through the load path', async () => {
    expect(await warmUpDecoder()).toBe(1);
  });

  it('has a table of about 2 MiB in one record batch, of the warm-up stream’s four types', () => {
    const bytes = warmUpTableBytes();
    const table = tableFromIPC(bytes);
    expect(table.batches.length).toBe(1);
    expect(table.numRows).toBe(1 << 17);
    expect(table.schema.fields.map((f) => String(f.type))).toEqual(['Float32', 'Float64', 'Int32', 'Uint16']);
    expect(bytes.byteLength).toBeGreaterThan(2 << 20);
  });
});
