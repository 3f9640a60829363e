import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ColumnPlan } from '../../src/core/columns/type-plan.js';

// The Arrow integration-test JSON format (arrow-testing's `NAME.json.gz`), read here independently of
// apache-arrow: what each row of a column must be on the GPU, worked out from the JSON's own values.

/** A field of the JSON schema. */
export interface JsonField {
  name: string;
  nullable: boolean;
  type: { name: string } & Record<string, unknown>;
  children?: JsonField[];
  /** Present when the field is dictionary-encoded: its values are indices into dictionary `id`. */
  dictionary?: { id: number };
}

/** One column of a JSON batch: `VALIDITY` 1 = valid (absent: a Null column, all null). */
export interface JsonColumn {
  name: string;
  count: number;
  VALIDITY?: number[];
  DATA?: unknown[];
  OFFSET?: Array<number | string>;
  children?: JsonColumn[];
}

/** A record batch of the JSON. */
export interface JsonBatch {
  count: number;
  columns: JsonColumn[];
}

/** One integration case's JSON. */
export interface IntegrationJson {
  schema: { fields: JsonField[] };
  batches: JsonBatch[];
  dictionaries?: Array<{ id: number; data: JsonBatch }>;
}

/** Reads a gzipped integration JSON file. */
export function readIntegrationJson(path: string): IntegrationJson {
  return JSON.parse(gunzipSync(readFileSync(path)).toString()) as IntegrationJson;
}

/** A row's logical value: JSON scalars as written, lists as arrays, structs as objects, `null` for nulls. */
export type JsonValue = unknown;

/** One leaf column over all batches: per row, whether it and every struct above it are valid, and its value. */
export interface JsonLeaf {
  field: JsonField;
  valid: boolean[];
  /** The raw JSON value of each row (dictionary-encoded: the decoded dictionary value). */
  values: JsonValue[];
}

/** The leaf column at `path` (field indices from the top level down through structs), all batches joined. */
export function jsonLeaf(json: IntegrationJson, path: readonly number[]): JsonLeaf {
  const fields: JsonField[] = [];
  let fieldList = json.schema.fields;
  for (const index of path) {
    const field = fieldList[index] as JsonField;
    fields.push(field);
    fieldList = field.children ?? [];
  }
  const leaf = fields[fields.length - 1] as JsonField;
  const valid: boolean[] = [];
  const values: JsonValue[] = [];
  for (const batch of json.batches) {
    const chain: JsonColumn[] = [];
    let columns = batch.columns;
    for (const index of path) {
      const column = columns[index] as JsonColumn;
      chain.push(column);
      columns = column.children ?? [];
    }
    const column = chain[chain.length - 1] as JsonColumn;
    for (let row = 0; row < batch.count; row++) {
      valid.push(chain.every((c, i) => isValid(fields[i] as JsonField, c, row)));
      values.push(rawValue(json, leaf, column, row));
    }
  }
  return { field: leaf, valid, values };
}

function isValid(field: JsonField, column: JsonColumn, row: number): boolean {
  if (field.type.name === 'null') return false;
  return column.VALIDITY === undefined || column.VALIDITY[row] !== 0;
}

/** A row's value, scalars as the JSON has them; dictionary-encoded rows decoded, nested values logical. */
function rawValue(json: IntegrationJson, field: JsonField, column: JsonColumn, row: number): JsonValue {
  if (field.dictionary) return dictionaryValue(json, field, column, row);
  switch (field.type.name) {
    case 'struct':
    case 'list':
    case 'largelist':
    case 'fixedsizelist':
      return nestedValue(json, field, column, row);
    default:
      return column.DATA?.[row] ?? null;
  }
}

/** Row `row` of a dictionary-encoded column: its index's dictionary value (`null` where that is null). */
function dictionaryValue(
  json: IntegrationJson,
  field: JsonField,
  column: JsonColumn,
  row: number,
): JsonValue {
  const id = field.dictionary?.id;
  const dictionary = json.dictionaries?.find((d) => d.id === id);
  if (!dictionary) throw new Error(`the JSON has no dictionary ${id}`);
  const values = dictionary.data.columns[0] as JsonColumn;
  const plain: JsonField = { ...field, dictionary: undefined };
  return logicalValue(json, plain, values, Number(column.DATA?.[row]));
}

/** A row's value in the shape apache-arrow's values take once normalised (see `normalise`). */
export function logicalValue(
  json: IntegrationJson,
  field: JsonField,
  column: JsonColumn,
  row: number,
): JsonValue {
  if (!isValid(field, column, row)) return null;
  const raw = rawValue(json, field, column, row);
  return logicalScalar(field, raw);
}

function nestedValue(json: IntegrationJson, field: JsonField, column: JsonColumn, row: number): JsonValue {
  const children = column.children ?? [];
  const childFields = field.children ?? [];
  if (field.type.name === 'struct') {
    return Object.fromEntries(
      childFields.map((f, i) => [f.name, logicalValue(json, f, children[i] as JsonColumn, row)]),
    );
  }
  const size = field.type.listSize as number | undefined;
  const start = size !== undefined ? row * size : Number(column.OFFSET?.[row]);
  const end = size !== undefined ? start + size : Number(column.OFFSET?.[row + 1]);
  const out: JsonValue[] = [];
  for (let i = start; i < end; i++) {
    out.push(logicalValue(json, childFields[0] as JsonField, children[0] as JsonColumn, i));
  }
  return out;
}

/**
 * A row's raw JSON value as apache-arrow returns it: 64-bit integers as bigint, single floats rounded,
 * binary as bytes (dictionary-encoded and nested values are already so).
 */
export function logicalScalar(field: JsonField, raw: JsonValue): JsonValue {
  if (field.dictionary || raw === null) return raw;
  const type = field.type;
  switch (type.name) {
    case 'int':
      return type.bitWidth === 64 ? BigInt(String(raw)) : Number(raw);
    case 'floatingpoint':
      return type.precision === 'SINGLE' ? Math.fround(Number(raw)) : Number(raw);
    case 'binary':
    case 'largebinary':
    case 'fixedsizebinary':
      return hexBytes(String(raw));
    default:
      return raw;
  }
}

/** Bytes of a JSON hex string. */
export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A 64-bit (or wider) two's complement integer as 32-bit words, least significant first. */
function wideWords(value: JsonValue, words: number): number[] {
  let big = BigInt.asUintN(words * 32, BigInt(String(value)));
  const out: number[] = [];
  for (let i = 0; i < words; i++, big >>= 32n) out.push(Number(big & 0xffffffffn));
  return out;
}

function f32Bits(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0] as number;
}

function f64Words(value: number): number[] {
  return Array.from(new Uint32Array(new Float64Array([value]).buffer));
}

/**
 * The words a valid row's JSON value must be on the GPU in `plan`'s encoding, as unsigned 32-bit
 * integers (`bool`: one word, 0 or 1, the row's bit). `dictionary` is compared decoded instead.
 */
export function expectedWords(plan: ColumnPlan, field: JsonField, value: JsonValue): number[] {
  switch (plan.encoding) {
    case 'f32':
      return [f32Bits(Number(value))];
    case 'i32':
    case 'u32':
      return [Number(value) >>> 0];
    case 'bool':
      return [value === true ? 1 : 0];
    case 'i64':
    case 'u64':
      return wideWords(value, 2);
    case 'f64':
      return f64Words(Number(value));
    case 'decimal':
      return wideWords(value, plan.components);
    case 'bytes': {
      const padded = new Uint8Array(plan.components * 4);
      padded.set(hexBytes(String(value)));
      return Array.from(new Uint32Array(padded.buffer));
    }
    case 'interval':
      return intervalWords(value as Record<string, number | string>);
    case 'vector':
      return vectorWords(plan, field, value as JsonValue[]);
    case 'null':
      return [];
    default:
      throw new Error(`no JSON mapping for the ${plan.encoding} encoding`);
  }
}

/**
 * Each row's validity bit on the GPU: the row's and its parents' validity, and for a `vector` every
 * element's too (the GPU has no validity per element, so a row with a null element is null).
 */
export function expectedValidity(plan: ColumnPlan, leaf: JsonLeaf): boolean[] {
  if (plan.encoding !== 'vector') return leaf.valid;
  return leaf.valid.map((valid, row) => valid && (leaf.values[row] as JsonValue[]).every((e) => e !== null));
}

/** DAY_TIME: days, milliseconds; MONTH_DAY_NANO: months, days, nanoseconds (lo, hi). */
function intervalWords(value: Record<string, number | string>): number[] {
  if ('milliseconds' in value) return [Number(value.days) >>> 0, Number(value.milliseconds) >>> 0];
  return [Number(value.months) >>> 0, Number(value.days) >>> 0, ...wideWords(value.nanoseconds, 2)];
}

/** A FixedSizeList row: each element in the element encoding (a valid row has only valid elements). */
function vectorWords(plan: ColumnPlan, field: JsonField, elements: JsonValue[]): number[] {
  const child = (field.children ?? [])[0] as JsonField;
  const element = { ...plan, encoding: plan.element, components: plan.components / elements.length };
  return elements.flatMap((e) => {
    if (e === null) throw new Error('a null element in a valid vector row');
    // Booleans are one u32 each (0 or 1) in a vector.
    return child.type.name === 'bool' ? [e ? 1 : 0] : expectedWords(element as ColumnPlan, child, e);
  });
}
