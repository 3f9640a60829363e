import { type Data, makeVector, Type, type Vector } from 'apache-arrow';
import { LimitError } from '../../errors.js';
import { type ColumnExtras, FixedWidthEncoder } from './column-encoder.js';

/** Default cap on the distinct values of one dictionary column. */
export const DEFAULT_MAX_DICTIONARY = 1_000_000;

/** A dictionary value as `table.dictionary()` returns it. */
export type DictionaryValue = string | number | bigint | Uint8Array | boolean | null;

/** What to call the column in errors, and how many distinct values it may have. */
export interface DictionaryOptions {
  column: string;
  maxDictionary: number;
}

/**
 * `dictionary`: one u32 code a row into one dictionary for the whole table, whatever the batches do —
 * dictionary deltas and replacements are remapped onto it, and plain string or binary columns are
 * dictionary-encoded here. Null rows hold code 0.
 */
export class DictionaryEncoder extends FixedWidthEncoder {
  readonly #options: DictionaryOptions;
  readonly #codes = new Map<unknown, number>();
  readonly #values: DictionaryValue[] = [];
  /** Each source dictionary's codes in the table's dictionary, by the source's identity. */
  readonly #remaps = new WeakMap<Vector, Uint32Array>();
  #textValues = false;
  #binaryValues = false;

  constructor(options: DictionaryOptions) {
    super(1);
    this.#options = options;
  }

  /** The table's dictionary so far, in code order. */
  values(): DictionaryValue[] {
    const decoder = new TextDecoder();
    return this.#values.map((v) =>
      typeof v === 'string' && this.#binaryValues
        ? this.#textValues
          ? decoder.decode(latin1Bytes(v))
          : latin1Bytes(v)
        : v,
    );
  }

  override describe(): ColumnExtras & { dictionarySize: number } {
    return { dictionarySize: this.#values.length };
  }

  protected write(data: Data, first: number, count: number, out: Uint32Array): void {
    if (data.type.typeId === Type.Dictionary) this.#writeCodes(data, first, count, out);
    else this.#writeValues(data, first, count, out);
  }

  #writeCodes(data: Data, first: number, count: number, out: Uint32Array): void {
    const dictionary = data.dictionary as Vector;
    const remap = this.#remapOf(dictionary);
    const indices = data.values as ArrayLike<number | bigint>;
    const start = first;
    for (let i = 0; i < count; i++) {
      if (!data.getValid(first + i)) {
        out[i] = 0;
        continue;
      }
      const index = Number(indices[start + i]);
      const code = remap[index];
      if (code === undefined)
        throw new RangeError(`dictionary index ${index} is outside its ${remap.length} values`);
      out[i] = code;
    }
  }

  #remapOf(dictionary: Vector): Uint32Array {
    let remap = this.#remaps.get(dictionary);
    if (remap) return remap;
    remap = new Uint32Array(dictionary.length);
    const data = dictionary.data;
    let at = 0;
    for (const chunk of data) {
      for (let i = 0; i < chunk.length; i++) remap[at++] = this.#codeOf(keyAt(chunk, i, this));
    }
    this.#remaps.set(dictionary, remap);
    return remap;
  }

  #writeValues(data: Data, first: number, count: number, out: Uint32Array): void {
    for (let i = 0; i < count; i++) {
      out[i] = data.getValid(first + i) ? this.#codeOf(keyAt(data, first + i, this)) : 0;
    }
  }

  #codeOf(key: DictionaryValue): number {
    const known = this.#codes.get(key);
    if (known !== undefined) return known;
    const code = this.#values.length;
    if (code >= this.#options.maxDictionary) {
      throw new LimitError(
        `Column ${JSON.stringify(this.#options.column)} has more than ${this.#options.maxDictionary} distinct values ` +
          '(maxDictionary); raise maxDictionary or leave the column out',
        { column: this.#options.column, expected: this.#options.maxDictionary, actual: code + 1 },
      );
    }
    this.#codes.set(key, code);
    this.#values.push(key);
    return code;
  }

  /** Records that keys are bytes (kept as latin1 strings), and whether they are UTF-8 text. */
  noteBytes(text: boolean): void {
    this.#binaryValues = true;
    this.#textValues ||= text;
  }
}

/**
 * Row `i`'s value as a Map key: bytes as a latin1 string (exact for any binary), numbers as they are,
 * `null` for a null (a dictionary may hold null values; a null string is not the empty one).
 */
function keyAt(data: Data, i: number, encoder: DictionaryEncoder): DictionaryValue {
  if (!data.getValid(i)) return null;
  const typeId = data.type.typeId;
  const text = typeId === Type.Utf8 || typeId === Type.LargeUtf8 || typeId === Type.Utf8View;
  if (text || typeId === Type.Binary || typeId === Type.LargeBinary || typeId === Type.BinaryView) {
    encoder.noteBytes(text);
    return latin1(bytesAt(data, i));
  }
  const value = makeVector(data).get(i) as DictionaryValue;
  return value;
}

/** The bytes of row `i` of a variable-size binary or text column. */
function bytesAt(data: Data, i: number): Uint8Array {
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  if (offsets && data.values instanceof Uint8Array) {
    const start = Number(offsets[i]);
    const end = Number(offsets[i + 1]);
    return data.values.subarray(start, end);
  }
  // View types: apache-arrow resolves the inline or referenced bytes.
  const value = makeVector(data).get(i) as string | Uint8Array | null;
  return typeof value === 'string' ? new TextEncoder().encode(value) : (value ?? new Uint8Array(0));
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let at = 0; at < bytes.length; at += 8192) {
    out += String.fromCharCode(...bytes.subarray(at, at + 8192));
  }
  return out;
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
