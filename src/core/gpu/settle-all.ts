/**
 * Takes the promises `answers` yields, where yielding one starts its work (buffers made at once, the
 * device's answer to come), and resolves once all have settled, or rejects then with the first failure.
 * Work that throws while being started (a buffer over the limits) ends the iteration and is thrown at
 * once; the answers already taken are then left unawaited: what they made goes with its owner.
 */
export function settleAll(answers: Iterable<Promise<void>>): Promise<void> {
  const started: Promise<void>[] = [];
  try {
    for (const answer of answers) started.push(answer);
  } catch (error) {
    for (const answer of started) answer.catch(() => {}); // the throw is the failure
    throw error;
  }
  return Promise.allSettled(started).then((settled) => {
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  });
}
