import { type Table, Type, type Vector } from 'apache-arrow';

/** A column as read back from the GPU, as plain data. */
export interface ReadBack {
  name: string;
  encoding: string;
  components: number;
  words: number[];
  validity: number[] | null;
  dictionary: unknown[] | null;
}

/**
 * Checks a read-back column against the source, row by row, computing what each row's words must be
 * from the values apache-arrow gives (`vector.get`), independently of the library's encoders. Returns
 * the mismatches (empty when the GPU holds exactly the source). Null rows are checked through the
 * validity words; their value words are whatever the file holds.
 */
export function mismatches(table: Table, column: ReadBack): string[] {
  const { vector, valid } = sourceOf(table, column.name);
  const out: string[] = [];
  const rows = table.numRows;
  for (let i = 0; i < rows && out.length < 5; i++) {
    const isValid = valid(i);
    const bit = column.validity ? ((column.validity[i >> 5] as number) >>> (i & 31)) & 1 : 1;
    if (bit !== (isValid ? 1 : 0)) out.push(`row ${i}: validity ${bit}, source ${isValid}`);
    if (!isValid) continue;
    const expected = expectedRow(column, vector.get(i));
    const actual = column.words.slice(i * column.components, (i + 1) * column.components);
    if (column.encoding === 'bool') {
      const word = ((column.words[i >> 5] as number) >>> (i & 31)) & 1;
      if (word !== expected[0]) out.push(`row ${i}: bit ${word}, expected ${expected[0]}`);
    } else if (column.encoding === 'dictionary') {
      const value = column.dictionary?.[column.words[i] as number];
      if (!same(value, vector.get(i)))
        out.push(`row ${i}: code → ${String(value)}, expected ${String(vector.get(i))}`);
    } else if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      out.push(`row ${i}: words ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
  }
  return out;
}

/** The source vector of a (possibly `parent.child`) column, and its validity with its parents'. */
function sourceOf(table: Table, name: string): { vector: Vector; valid: (i: number) => boolean } {
  const [top, ...rest] = name.split('.');
  const chain: Vector[] = [table.getChild(top as string) as Vector];
  for (const part of rest) chain.push((chain[chain.length - 1] as Vector).getChild(part as never) as Vector);
  const vector = chain[chain.length - 1] as Vector;
  // Every row of a Null column is null (apache-arrow's isValid says otherwise for that type).
  if (vector.type.typeId === Type.Null) return { vector, valid: () => false };
  return { vector, valid: (i) => chain.every((v) => v.isValid(i)) };
}

/** The words a value must become, as unsigned 32-bit integers. */
function expectedRow(column: ReadBack, value: unknown): number[] {
  const f32 = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0] as number;
  switch (column.encoding) {
    case 'f32':
      return [f32(Number(value))];
    case 'i32':
    case 'u32':
      return [Number(value) >>> 0];
    case 'i64':
    case 'u64': {
      const big = BigInt.asUintN(64, BigInt(value as bigint | number));
      return [Number(big & 0xffffffffn), Number(big >> 32n)];
    }
    case 'f64':
      return Array.from(new Uint32Array(new Float64Array([Number(value)]).buffer));
    case 'bool':
      return [value ? 1 : 0];
    case 'bytes': {
      const padded = new Uint8Array(column.components * 4);
      padded.set(value as Uint8Array);
      return Array.from(new Uint32Array(padded.buffer));
    }
    case 'vector':
      return Array.from(value as ArrayLike<number>, f32);
    case 'decimal':
    case 'interval':
      return Array.from(new Uint32Array(Int32Array.from(value as ArrayLike<number>).buffer));
    default:
      return [];
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.join() === b.join();
  return a === b;
}
