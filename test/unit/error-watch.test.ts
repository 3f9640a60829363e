import { describe, expect, it } from 'vitest';
import { GpuError } from '../../src/core/errors.js';
import { GpuErrorWatch } from '../../src/core/gpu/error-scope.js';

/**
 * A device whose error scopes answer when the test says: each `popErrorScope` waits for `answer(i, error)`
 * (i counts pops from 0), so that the order in which failures arrive is the test's choice.
 */
class ScriptedScopes {
  readonly #answers: Array<(error: { message: string } | null) => void> = [];

  pushErrorScope(): void {}

  popErrorScope(): Promise<{ message: string } | null> {
    return new Promise((resolve) => this.#answers.push(resolve));
  }

  answer(pop: number, error: { message: string } | null): void {
    this.#answers[pop]?.(error);
  }
}

const asDevice = (scopes: ScriptedScopes) => scopes as unknown as GPUDevice;

describe('GpuErrorWatch', () => {
  it('reports the failure of the earliest work, whichever answer comes first', async () => {
    const scopes = new ScriptedScopes();
    const watch = new GpuErrorWatch(asDevice(scopes));
    watch.run('first write', { column: 'a' }, () => {}); // pops 0 (validation) and 1 (out of memory)
    watch.run('second write', { column: 'b' }, () => {}); // pops 2 and 3
    scopes.answer(2, { message: 'second failed' });
    scopes.answer(3, null);
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The first write is unanswered: it may have failed too, and come first.
    expect(() => watch.throwIfFailed()).not.toThrow();
    scopes.answer(0, { message: 'first failed' });
    scopes.answer(1, null);
    await expect(watch.settle()).rejects.toMatchObject({ code: 'GPU_VALIDATION', details: { column: 'a' } });
    expect(() => watch.throwIfFailed()).toThrow(/first write/);
  });

  it('throws a failure at once when no earlier work is unanswered', async () => {
    const scopes = new ScriptedScopes();
    const watch = new GpuErrorWatch(asDevice(scopes));
    watch.run('first write', {}, () => {});
    watch.run('second write', {}, () => {});
    scopes.answer(0, { message: 'first failed' });
    scopes.answer(1, null);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(() => watch.throwIfFailed()).toThrow(/first write/); // the second is still unanswered
  });

  it("puts a tracked check's GpuError ahead of the work done after it, and ignores other rejections", async () => {
    const scopes = new ScriptedScopes();
    const watch = new GpuErrorWatch(asDevice(scopes));
    let refuse: (error: unknown) => void = () => {};
    watch.track(new Promise((_, reject) => (refuse = reject)));
    watch.run('writing into it', {}, () => {});
    scopes.answer(0, { message: 'invalid buffer' });
    scopes.answer(1, null);
    refuse(new GpuError('GPU_OUT_OF_MEMORY', 'column "x": creating a GPU buffer failed', { column: 'x' }));
    await expect(watch.settle()).rejects.toMatchObject({
      code: 'GPU_OUT_OF_MEMORY',
      details: { column: 'x' },
    });

    const lost = new GpuErrorWatch(asDevice(new ScriptedScopes()));
    lost.track(Promise.reject(new Error('the device is gone')));
    await expect(lost.settle()).resolves.toBeUndefined();
  });
});
