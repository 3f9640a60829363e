import { type DataType, Field, IntervalUnit, type Schema, Type } from 'apache-arrow';
import { ArgumentError, ColumnError, UnsupportedTypeError } from '../errors.js';
import {
  type Encoding,
  type EncodingRequest,
  FIXED_COMPONENTS,
  type WordType,
  wordTypeOf,
} from './encoding.js';
import { isRunEndType } from './run-ends.js';
import { elementEncodingOf, encodingsOf } from './type-encodings.js';

export { alignUp, COPY_ALIGNMENT, validityWordCount } from './words.js';

/** How one selected column is laid out on the GPU. */
export interface ColumnPlan {
  /** The field's name; `parent.child` for a struct's children. */
  name: string;
  /** Field indices from the schema's top level down to this field (one index unless nested in structs). */
  path: readonly number[];
  /** The Arrow type as apache-arrow prints it, e.g. `Int16` or `Timestamp<MILLISECOND>`. */
  arrowType: string;
  /**
   * The schema's field under this column's name: its Arrow type as declared (units, time zone,
   * dictionary id and index type), nullable where it or a struct above it is. `readRows` rebuilds it.
   */
  field: Field;
  encoding: Encoding;
  /** 32-bit words a row takes; `bool` packs 32 rows in a word (1/32). */
  components: number;
  /** The typed array `readColumn` returns. */
  wordType: WordType;
  /** `vector`: the encoding of each component. */
  element?: Encoding;
  /** `vector`: components a row holds (the list size). */
  listSize?: number;
  /** `decimal`: the scale; the words hold the unscaled value. */
  scale?: number;
  /** `bytes`: the values' width in bytes. */
  byteWidth?: number;
  /**
   * A RunEndEncoded column, expanded on upload: its data is the struct of its run ends and values, and
   * the rest of the plan is its values' (as a plain column of that type would have it).
   */
  runEndEncoded?: true;
}

/** A column left out by `unsupported: 'skip'`, and why. */
export interface SkippedColumn {
  name: string;
  arrowType: string;
  reason: string;
}

/** What to upload: a projection, encodings, and what to do with columns that have no encoding. */
export interface PlanOptions {
  columns?: readonly string[];
  encodings?: EncodingRequest;
  unsupported?: 'error' | 'skip';
}

/** The columns a load uploads, and those it skipped. */
export interface TablePlan {
  plans: ColumnPlan[];
  skipped: SkippedColumn[];
}

/**
 * Plans the columns to upload: all of the schema's (structs flattened), or the named ones in the order
 * given. Columns without a GPU encoding fail the plan all at once, naming each, unless skipped; so do
 * the `unreadable` ones, which the decoder took out of `schema` because it cannot decode their type.
 * `runEndEncoded` lists the paths of the fields that are RunEndEncoded arrays decoded as the struct of
 * their run ends and values: each is one column, with its values' encoding.
 */
export function planColumns(
  schema: Schema,
  options: PlanOptions,
  url: string,
  unreadable: readonly SkippedColumn[] = [],
  runEndEncoded: readonly (readonly number[])[] = [],
): TablePlan {
  const runEnds = new Set(runEndEncoded.map((path) => path.join('.')));
  const candidates = flatten(schema.fields, [], '', runEnds);
  const picked = pick(candidates, unreadable, options.columns, url);
  const plans: ColumnPlan[] = [];
  const skipped: SkippedColumn[] = [];
  for (const candidate of picked.candidates) {
    const request = options.encodings ?? 'auto';
    const planned = candidate.runEnds ? planRunEnds(candidate, request) : planColumn(candidate, request);
    if (typeof planned === 'string') {
      skipped.push({ name: candidate.name, arrowType: candidate.arrowType, reason: planned });
    } else plans.push(planned);
  }
  skipped.push(...picked.unreadable);
  checkRequests(options.encodings, [...candidates, ...unreadable], url);
  if (skipped.length > 0 && options.unsupported !== 'skip') throw unsupported(skipped, url);
  return { plans, skipped };
}

interface Candidate {
  name: string;
  path: number[];
  /** The leaf field, renamed `parent.child` and nullable where a struct above it is. */
  field: Field;
  arrowType: string;
  /** A RunEndEncoded array, `field` the struct of its run ends and values. */
  runEnds: boolean;
}

/**
 * Every leaf field with its path; a struct's children stand in for it as `parent.child`, nullable where
 * the struct is. `runEnds` holds the paths (joined by dots) of RunEndEncoded fields, leaves although
 * decoded as structs.
 */
function flatten(
  fields: readonly Field[],
  path: number[],
  prefix: string,
  runEnds: ReadonlySet<string>,
  nullable = false,
): Candidate[] {
  return fields.flatMap((field, index) => {
    const name = `${prefix}${field.name}`;
    const here = [...path, index];
    const nulls = nullable || field.nullable;
    const leaf = new Field(name, field.type, nulls, field.metadata);
    if (runEnds.has(here.join('.'))) {
      const [ends, values] = (field.type.children ?? []) as Field[];
      const arrowType = `RunEndEncoded<${String(ends?.type)}, ${String(values?.type)}>`;
      return [{ name, path: here, field: leaf, arrowType, runEnds: true }];
    }
    if (field.type.typeId === Type.Struct) {
      return flatten(field.type.children as Field[], here, `${name}.`, runEnds, nulls);
    }
    return [{ name, path: here, field: leaf, arrowType: String(field.type), runEnds: false }];
  });
}

/** The columns `names` selects (all when absent), among those decoded and those that could not be. */
function pick(
  candidates: Candidate[],
  unreadable: readonly SkippedColumn[],
  names: readonly string[] | undefined,
  url: string,
): { candidates: Candidate[]; unreadable: SkippedColumn[] } {
  if (names === undefined) return { candidates, unreadable: [...unreadable] };
  const picked = { candidates: [] as Candidate[], unreadable: [] as SkippedColumn[] };
  for (const name of names) {
    // A struct's name selects all its children.
    const matches = candidates.filter((c) => c.name === name || c.name.startsWith(`${name}.`));
    // A column taken out whole also answers for the children it had.
    const gone = unreadable.filter(
      (u) => u.name === name || u.name.startsWith(`${name}.`) || name.startsWith(`${u.name}.`),
    );
    if (matches.length === 0 && gone.length === 0) {
      const all = [...candidates, ...unreadable];
      const available = all.map((c) => JSON.stringify(c.name)).join(', ');
      throw new ColumnError(
        'NO_SUCH_COLUMN',
        `No column ${JSON.stringify(name)} in ${url}; the schema has ${all.length} column(s): ${available}`,
        { url, column: name },
      );
    }
    for (const match of matches) if (!picked.candidates.includes(match)) picked.candidates.push(match);
    for (const match of gone) if (!picked.unreadable.includes(match)) picked.unreadable.push(match);
  }
  return picked;
}

/**
 * The plan of a RunEndEncoded column, or why it has none: its values' plan (it is expanded to one value
 * a row), under its own type.
 */
function planRunEnds(candidate: Candidate, request: EncodingRequest): ColumnPlan | string {
  const { arrowType, field } = candidate;
  const [ends, values] = (field.type.children ?? []) as Field[];
  if (!ends || !values || !isRunEndType(ends.type)) {
    return `Arrow type ${arrowType} has no GPU encoding (run ends must be Int16, Int32 or Int64)`;
  }
  // Expanded, the column is its values under its own name (readRows gives it back so).
  const expanded = new Field(candidate.name, values.type, field.nullable || values.nullable, field.metadata);
  const planned = planColumn({ ...candidate, field: expanded }, request);
  if (typeof planned === 'string') {
    return `Arrow type ${arrowType} has no GPU encoding (its values' type, ${values.type}, has none)`;
  }
  return { ...planned, runEndEncoded: true };
}

/** The plan of one column, or why it has none; `arrowType` is the type it is reported as. */
function planColumn(
  { name, path, field, arrowType }: Candidate,
  request: EncodingRequest,
): ColumnPlan | string {
  const type = field.type as DataType;
  const asked = typeof request === 'object' ? request[name] : undefined;
  const exact = request === 'exact';
  if (type.typeId === Type.FixedSizeList) return planVector(name, path, field, arrowType, asked, exact);
  const encodings = encodingsOf(type);
  if (!encodings) return `Arrow type ${arrowType} has no GPU encoding`;
  const encoding = asked ?? (exact ? encodings.exact : encodings.auto);
  if (!encodings.allowed.includes(encoding)) throw misfit(name, encoding, arrowType, encodings.allowed);
  return { name, path, arrowType, field, encoding, ...shapeOf(type, encoding) };
}

function shapeOf(
  type: DataType,
  encoding: Encoding,
): Omit<ColumnPlan, 'name' | 'path' | 'arrowType' | 'field' | 'encoding'> {
  const t = type as DataType & Record<string, number>;
  const wordType = wordTypeOf(encoding);
  switch (encoding) {
    case 'bool':
      return { components: 1 / 32, wordType };
    case 'decimal':
      return { components: (t.bitWidth as number) / 32, wordType, scale: t.scale as number };
    case 'bytes':
      return {
        components: Math.ceil((t.byteWidth as number) / 4),
        wordType,
        byteWidth: t.byteWidth as number,
      };
    case 'interval':
      return { components: t.unit === IntervalUnit.DAY_TIME ? 2 : 4, wordType };
    default:
      return { components: FIXED_COMPONENTS[encoding] ?? 1, wordType };
  }
}

function planVector(
  name: string,
  path: number[],
  field: Field,
  arrowType: string,
  asked: Encoding | undefined,
  exact: boolean,
): ColumnPlan | string {
  const type = field.type as DataType;
  const child = (type.children as Field[])[0]?.type as DataType | undefined;
  const element = child ? elementEncodingOf(child, exact) : null;
  if (!child || !element)
    return `Arrow type ${arrowType} has no GPU encoding (vectors hold numbers or booleans)`;
  if (asked !== undefined && asked !== 'vector') throw misfit(name, asked, arrowType, ['vector']);
  const listSize = (type as DataType & { listSize: number }).listSize;
  const perElement = FIXED_COMPONENTS[element] ?? 1;
  return {
    name,
    path,
    arrowType,
    field,
    encoding: 'vector',
    components: listSize * perElement,
    wordType: wordTypeOf('vector', element),
    element,
    listSize,
  };
}

/** Requests must name columns of the schema: a misspelt name would silently change nothing. */
function checkRequests(
  request: EncodingRequest | undefined,
  candidates: ReadonlyArray<{ name: string }>,
  url: string,
): void {
  if (typeof request !== 'object') return;
  for (const name of Object.keys(request)) {
    if (!candidates.some((c) => c.name === name)) {
      throw new ArgumentError(`encodings names ${JSON.stringify(name)}, which is no column of ${url}`, {
        url,
        column: name,
      });
    }
  }
}

/** A requested encoding that the column's type cannot take. */
function misfit(
  name: string,
  encoding: Encoding,
  arrowType: string,
  allowed: readonly Encoding[],
): ArgumentError {
  const takes = allowed.map((e) => `'${e}'`).join(', ');
  return new ArgumentError(
    `encodings asks '${encoding}' for column ${JSON.stringify(name)}, but its type ${arrowType} takes ${takes}`,
    { column: name, arrowType },
  );
}

function unsupported(skipped: SkippedColumn[], url: string): UnsupportedTypeError {
  const list = skipped.map((s) => `${JSON.stringify(s.name)}: ${s.reason}`).join('; ');
  const first = skipped[0] as SkippedColumn;
  return new UnsupportedTypeError(
    `${skipped.length} column(s) of ${url} cannot be uploaded: ${list}. Leave them out with the \`columns\` ` +
      "option, or load the rest with `unsupported: 'skip'`",
    { url, column: first.name, arrowType: first.arrowType, columns: skipped.map((s) => s.name) },
  );
}
