import type { ChunkRange } from './chunk-lookup.js';

/** One storage buffer a generated module declares, and what it must be bound to. */
export interface WgslBinding {
  group: number;
  binding: number;
  /** The column's name, as in `ColumnInfo.name`. */
  column: string;
  /** Index of the chunk in the column's values or validity chunks. */
  chunk: number;
  kind: 'values' | 'validity';
  /** First row the buffer holds. */
  rowOffset: number;
  /** Rows the buffer holds. */
  rows: number;
  /** The `var<storage, read>` the module declares for it. */
  variable: string;
}

/** Where a column's declarations go: its identifier and its first binding. */
export interface ColumnPlacement {
  id: string;
  group: number;
  firstBinding: number;
}

/** Collects a column's lines, bindings and declared functions. */
export class ColumnWriter {
  readonly lines: string[] = [];
  readonly bindings: WgslBinding[] = [];
  readonly functions: string[] = [];
  readonly helpers = new Set<string>();

  constructor(readonly place: ColumnPlacement) {}

  /** Declares a buffer per chunk; returns their variable names. */
  bind(
    column: string,
    kind: WgslBinding['kind'],
    chunks: readonly ChunkRange[],
    name: (k: number) => string,
  ): string[] {
    return chunks.map(({ rowOffset, rows }, chunk) => {
      const variable = name(chunk);
      const { group } = this.place;
      const binding = this.place.firstBinding + this.bindings.length;
      this.bindings.push({ group, binding, column, chunk, kind, rowOffset, rows, variable });
      this.lines.push(`@group(${group}) @binding(${binding}) var<storage, read> ${variable}: array<u32>;`);
      return variable;
    });
  }

  /** Declares `fn <id>_<suffix><signature> { body }`. */
  fn(suffix: string, signature: string, body: readonly string[]): void {
    const name = `${this.place.id}_${suffix}`;
    this.functions.push(name);
    const [only] = body;
    // A one-statement body stays on the declaration's line.
    if (body.length === 1 && only !== undefined) this.lines.push(`fn ${name}${signature} { ${only.trim()} }`);
    else this.lines.push(`fn ${name}${signature} {`, ...body, '}');
  }
}
