import { expect } from 'vitest';
import { ArrowGpuError } from '../../src/core/errors.js';

/** The library error `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<ArrowGpuError> {
  const error = await promise.then(
    () => new Error('it succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArrowGpuError);
  return error as ArrowGpuError;
}
