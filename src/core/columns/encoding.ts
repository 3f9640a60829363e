/**
 * How one column's values lie in its GPU buffer. Every encoding is made of 32-bit words; `components`
 * says how many a row takes (`bool` packs 32 rows in a word).
 */
export type Encoding =
  | 'f32'
  | 'i32'
  | 'u32'
  | 'bool'
  | 'i64'
  | 'u64'
  | 'f64'
  | 'f32x2'
  | 'f32-relative'
  | 'decimal'
  | 'dictionary'
  | 'bytes'
  | 'vector'
  | 'interval'
  | 'null';

/** The typed array `readColumn` returns for an encoding's words. */
export type WordType = 'f32' | 'i32' | 'u32';

/** Per column (by name) or for every column: `'auto'` picks per type, `'exact'` never loses a bit. */
export type EncodingRequest = 'auto' | 'exact' | Readonly<Record<string, Encoding>>;

/** Words of each encoding that hold one value, where that does not depend on the type. */
export const FIXED_COMPONENTS: Partial<Record<Encoding, number>> = {
  f32: 1,
  i32: 1,
  u32: 1,
  i64: 2,
  u64: 2,
  f64: 2,
  f32x2: 2,
  'f32-relative': 1,
  dictionary: 1,
  null: 0,
};

/** The typed array of an encoding's words. */
export function wordTypeOf(encoding: Encoding, element?: Encoding): WordType {
  switch (encoding) {
    case 'f32':
    case 'f32x2':
    case 'f32-relative':
      return 'f32';
    case 'i32':
    case 'interval':
      return 'i32';
    case 'vector':
      return element ? wordTypeOf(element) : 'u32';
    default:
      return 'u32';
  }
}
