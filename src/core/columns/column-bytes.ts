import type { ColumnPlan } from './type-plan.js';
import { validityWordCount, WORD_BYTES } from './words.js';

/** Bytes a column's values take on the GPU for `rows` rows (`bool` packs 32 rows in a word). */
export function columnBytes(plan: Pick<ColumnPlan, 'encoding' | 'components'>, rows: number): number {
  if (plan.encoding === 'bool') return validityWordCount(rows) * WORD_BYTES;
  return rows * plan.components * WORD_BYTES;
}
