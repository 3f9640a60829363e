import { describe, expect, it } from 'vitest';
import { warmUpDecoder } from '../../src/core/ipc/warm-up.js';

describe('decoder warm-up', () => {
  it('frames and decodes its one-row stream through the load path', async () => {
    expect(await warmUpDecoder()).toBe(1);
  });
});
