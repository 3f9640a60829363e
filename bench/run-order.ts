/**
 * The order of `count` variants in repetition `rep`: a row of a balanced Latin square (Williams), so that
 * each variant runs at each position and after each other variant equally often over `count` repetitions
 * (`2 × count` when `count` is odd). Rotating one order instead keeps every variant after the same
 * neighbour: whatever that neighbour leaves behind (a device being freed, workers ending) would weigh on
 * it in every repetition.
 */
export function runOrder(count: number, rep: number): number[] {
  // 0, 1, n-1, 2, n-2, …: the differences between neighbours are all distinct modulo n.
  const first = Array.from({ length: count }, (_, i) => (i % 2 ? (i + 1) / 2 : count - i / 2) % count);
  const round = count % 2 ? rep % (2 * count) : rep % count;
  const row = first.map((v) => (v + round) % count);
  return round >= count ? row.reverse() : row;
}

/** `items` in the order `runOrder` gives for repetition `rep`. */
export function orderFor<T>(items: readonly T[], rep: number): T[] {
  return runOrder(items.length, rep).map((i) => items[i] as T);
}

/**
 * `items` in the order `orderFor` gives for repetition `rep`, those that `last` picks after all the others
 * (each group in its own order). The naive paths leave hundreds of MiB to the page's garbage collector and
 * the GPU process to free, which slowed the variant after them; with a few repetitions of many variants the
 * square is far from a cycle, and in five of seventeen `ours:staging` ran after `naive:main` and
 * `naive:flechette`, the read ceiling after neither. Grouped, they precede only the next repetition's
 * first variant, which changes with each repetition.
 */
export function orderApart<T>(items: readonly T[], rep: number, last: (item: T) => boolean): T[] {
  const rest = items.filter((item) => !last(item));
  return [...orderFor(rest, rep), ...orderFor(items.filter(last), rep)];
}
