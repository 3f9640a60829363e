import type { FlatbufferView } from '../flatbuffer-view.js';
import { checkString } from './checks.js';
import { KeyValue } from './slots.js';

/** Checks a vector of `KeyValue` tables (custom metadata): apache-arrow reads every key and value. */
export function checkKeyValues(fb: FlatbufferView, position: number | null): void {
  if (position === null) return;
  const vector = fb.vector(position, 4);
  for (let i = 0; i < vector.length; i++) {
    const entry = fb.indirect(vector.start + i * 4);
    checkString(fb, fb.field(entry, KeyValue.key));
    checkString(fb, fb.field(entry, KeyValue.value));
  }
}
