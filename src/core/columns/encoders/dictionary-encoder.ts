import { type Data, makeVector, Type, type Vector } from 'apache-arrow';
import { formatBytes, LimitError } from '../../errors.js';
import { hasTextOffsets } from '../local-dictionary.js';
import { bitAt, type KeyBytes, keyBytes, offsetNumbers } from './byte-keys.js';
import { ByteTable } from './byte-table.js';
import { type ColumnExtras, FixedWidthEncoder, type ValueArray } from './column-encoder.js';

/** Default cap on the distinct values of one dictionary column. */
export const DEFAULT_MAX_DICTIONARY = 1_000_000;

/** A dictionary value as `table.dictionary()` returns it. */
export type DictionaryValue = string | number | bigint | Uint8Array | boolean | null;

/** What to call the column in errors, and how many distinct values it may have. */
export interface DictionaryOptions {
  column: string;
  maxDictionary: number;
  /** Most bytes of distinct text or binary values (default and at most `MAX_KEY_BYTES`, 2 GiB). */
  maxBytes?: number;
}

/**
 * `dictionary`: one u32 code a row into one dictionary for the whole table, whatever the batches do —
 * dictionary deltas and replacements are remapped onto it, and plain string or binary columns are
 * dictionary-encoded here. Null rows hold code 0. Byte values are found in a `ByteTable` (a hash of their
 * bytes and a byte compare), so no string is built per row.
 */
export class DictionaryEncoder extends FixedWidthEncoder {
  readonly #options: DictionaryOptions;
  /** Codes of values that are not bytes (numbers, bigints, booleans, null). */
  readonly #codes = new Map<unknown, number>();
  /** Codes of byte values (text and binary). */
  readonly #bytes: ByteTable;
  /** Values by code; bytes are kept as copies and decoded as text on demand. */
  readonly #values: Array<DictionaryValue> = [];
  /** Each source dictionary's codes in the table's dictionary, by the source's identity. */
  readonly #remaps = new WeakMap<Vector, Uint32Array>();
  /** The codes of source dictionaries that grow by appended chunks, by their first chunk. */
  readonly #grown = new WeakMap<Data, GrowingRemap>();
  #text = false;

  constructor(options: DictionaryOptions) {
    super(1);
    this.#options = options;
    this.#bytes = new ByteTable(options.maxBytes);
  }

  /** The table's dictionary so far, in code order: text as strings, binary as `Uint8Array`s. */
  values(): DictionaryValue[] {
    const decoder = new TextDecoder();
    return this.#values.map((v) =>
      v instanceof Uint8Array ? (this.#text ? decoder.decode(v) : v.slice()) : v,
    );
  }

  /** The table's dictionary as kept, in code order: text and binary values as their bytes (read only). */
  rawValues(): readonly DictionaryValue[] {
    return this.#values;
  }

  /** Whether byte values are text (decoded as strings by `values()`). */
  get text(): boolean {
    return this.#text;
  }

  /**
   * A dictionary made elsewhere (another thread's encoder: its `rawValues()` and `text`), for reading
   * rows and values; it encodes no rows.
   */
  static restore(
    options: DictionaryOptions,
    values: readonly DictionaryValue[],
    text: boolean,
  ): DictionaryEncoder {
    const encoder = new DictionaryEncoder(options);
    for (const value of values) encoder.#values.push(value);
    encoder.#text = text;
    return encoder;
  }

  override describe(): ColumnExtras & { dictionarySize: number } {
    return { dictionarySize: this.#values.length };
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    if (data.type.typeId === Type.Dictionary) this.#writeCodes(data, first, count, out);
    else this.#writeValues(data, first, count, out);
  }

  #writeCodes(data: Data, first: number, count: number, out: Uint32Array): void {
    const remap = this.#remapOf(data.dictionary as Vector);
    const indices = data.values as ValueArray;
    const bitmap = data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : null;
    const bit = data.offset + first;
    if (indices instanceof BigInt64Array || indices instanceof BigUint64Array) {
      for (let i = 0; i < count; i++) {
        out[i] = bitmap && !bitAt(bitmap, bit + i) ? 0 : remapped(remap, Number(indices[first + i]));
      }
      return;
    }
    // One tight pass over the rows; a null row's index (any value) is looked at only when out of range.
    for (let i = 0; i < count; i++) {
      const code = remap[indices[first + i] as number];
      if (code !== undefined) out[i] = code;
      else if (bitmap && !bitAt(bitmap, bit + i)) out[i] = 0;
      else remapped(remap, indices[first + i] as number);
    }
    if (bitmap) zeroNulls(bitmap, bit, count, out);
  }

  /**
   * The table's code of each value of a source dictionary. A dictionary that grew by appended chunks
   * (an Arrow delta, or a decode worker's values added batch by batch) extends the codes already found
   * for its first chunks: each value is looked up once.
   */
  #remapOf(dictionary: Vector): Uint32Array {
    const known = this.#remaps.get(dictionary);
    if (known) return known;
    const chunks = dictionary.data as Data[];
    const first = chunks[0];
    if (!first) return new Uint32Array(0);
    let grown = this.#grown.get(first);
    if (!grown?.isPrefixOf(chunks)) {
      grown = new GrowingRemap();
      this.#grown.set(first, grown);
    }
    for (const chunk of chunks.slice(grown.chunks.length)) {
      const codes = new Uint32Array(chunk.length);
      this.#writeValues(chunk, 0, chunk.length, codes, null);
      grown.append(chunk, codes);
    }
    const remap = grown.codes();
    this.#remaps.set(dictionary, remap);
    return remap;
  }

  /** Codes of rows of a value column; `nullCode` for null rows (a dictionary's null value gets a code of its own). */
  #writeValues(
    data: Data,
    first: number,
    count: number,
    out: Uint32Array,
    nullCode: number | null = 0,
  ): void {
    if (hasTextOffsets(data)) {
      this.#text ||= isText(data.type.typeId);
      this.#writeBytes(data, first, count, out, nullCode);
      return;
    }
    // View types and values that are not bytes: apache-arrow reads each value.
    const bitmap = data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : null;
    const vector = makeVector(data);
    for (let i = 0; i < count; i++) {
      out[i] =
        !bitmap || bitAt(bitmap, data.offset + first + i)
          ? this.#codeOfValue(vector.get(first + i))
          : this.#nullCode(nullCode);
    }
  }

  /** `#writeValues` for text and binary with offsets: one hash and one compare of bytes a row. */
  #writeBytes(data: Data, first: number, count: number, out: Uint32Array, nullCode: number | null): void {
    const source = keyBytes(data.values as Uint8Array);
    const starts = offsetNumbers(data.valueOffsets as Int32Array | BigInt64Array, first, count);
    const bitmap = data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : null;
    const bit = data.offset + first;
    for (let i = 0; i < count; i++) {
      out[i] =
        bitmap && !bitAt(bitmap, bit + i)
          ? this.#nullCode(nullCode)
          : this.#codeOfBytes(source, starts[i] as number, starts[i + 1] as number);
    }
  }

  #nullCode(nullCode: number | null): number {
    return nullCode ?? this.#codeOf(null);
  }

  #codeOfValue(value: unknown): number {
    if (typeof value === 'string') return this.#codeOfText(value);
    if (value instanceof Uint8Array) return this.#codeOfBytes(keyBytes(value), 0, value.length);
    return this.#codeOf(value as DictionaryValue);
  }

  #codeOfText(value: string): number {
    this.#text = true;
    const bytes = new TextEncoder().encode(value);
    return this.#codeOfBytes(keyBytes(bytes), 0, bytes.length);
  }

  #codeOfBytes(source: KeyBytes, start: number, end: number): number {
    const known = this.#bytes.get(source, start, end);
    if (known >= 0) return known;
    if (this.#bytes.full(start, end)) {
      const { column } = this.#options;
      const max = this.#bytes.maxBytes;
      throw new LimitError(
        `Column ${JSON.stringify(column)} has more than ${formatBytes(max)} of distinct values; leave the column out`,
        { column, expected: max, actual: this.#bytes.byteLength + (end - start) },
      );
    }
    const code = this.#add(source.bytes.slice(start, end));
    this.#bytes.add(source, start, end, code);
    return code;
  }

  #codeOf(key: DictionaryValue): number {
    const known = this.#codes.get(key);
    if (known !== undefined) return known;
    const code = this.#add(key);
    this.#codes.set(key, code);
    return code;
  }

  #add(value: DictionaryValue): number {
    const code = this.#values.length;
    if (code >= this.#options.maxDictionary) {
      throw new LimitError(
        `Column ${JSON.stringify(this.#options.column)} has more than ${this.#options.maxDictionary} distinct values ` +
          '(maxDictionary); raise maxDictionary or leave the column out',
        { column: this.#options.column, expected: this.#options.maxDictionary, actual: code + 1 },
      );
    }
    this.#values.push(value);
    return code;
  }
}

/** A source dictionary's codes in the table's, chunk after chunk as the dictionary grows. */
class GrowingRemap {
  readonly chunks: Data[] = [];
  #codes = new Uint32Array(64);
  #length = 0;

  /** Whether `chunks` starts with the chunks whose codes are here. */
  isPrefixOf(chunks: readonly Data[]): boolean {
    return this.chunks.length <= chunks.length && this.chunks.every((chunk, i) => chunk === chunks[i]);
  }

  append(chunk: Data, codes: Uint32Array): void {
    if (this.#length + codes.length > this.#codes.length) {
      const wider = new Uint32Array(Math.max(this.#length + codes.length, this.#codes.length * 2));
      wider.set(this.#codes.subarray(0, this.#length));
      this.#codes = wider;
    }
    this.#codes.set(codes, this.#length);
    this.#length += codes.length;
    this.chunks.push(chunk);
  }

  /** The codes of every value so far (a view: later appends do not change it). */
  codes(): Uint32Array {
    return this.#codes.subarray(0, this.#length);
  }
}

/** The table's code of source index `index`; a RangeError when the source dictionary has no such value. */
function remapped(remap: Uint32Array, index: number): number {
  const code = remap[index];
  if (code === undefined)
    throw new RangeError(`dictionary index ${index} is outside its ${remap.length} values`);
  return code;
}

/** Sets `out[i]` to 0 for each null row `i` (bit `bit + i` of `bitmap` clear), a byte of rows at a time. */
function zeroNulls(bitmap: Uint8Array, bit: number, count: number, out: Uint32Array): void {
  let i = 0;
  // Rows up to the first whole bitmap byte one bit at a time, then a byte (8 rows) at a time.
  for (; i < count && ((bit + i) & 7) !== 0; i++) if (!bitAt(bitmap, bit + i)) out[i] = 0;
  for (; i + 8 <= count; i += 8) {
    const valid = bitmap[(bit + i) >> 3] as number;
    if (valid === 0xff) continue;
    for (let j = 0; j < 8; j++) if (((valid >> j) & 1) === 0) out[i + j] = 0;
  }
  for (; i < count; i++) if (!bitAt(bitmap, bit + i)) out[i] = 0;
}

function isText(typeId: Type): boolean {
  return typeId === Type.Utf8 || typeId === Type.LargeUtf8 || typeId === Type.Utf8View;
}
