import type { NodeLayout } from '../metadata/field.js';
import type { BatchShape, BufferRegion } from '../metadata/record-batch.js';
import { type BufferKind, type ChildLength, FREE, OFFSETS_32 } from '../metadata/type-layout.js';
import { codecBound, tightest, typeBound } from './buffer-bounds.js';
import { codecName, decompressBuffer } from './codecs.js';

/** A compressed buffer that lies about its size; the framer adds the batch and the source byte offset. */
export class BodyFault extends Error {
  constructor(
    message: string,
    /** Offset of the buffer (its length prefix) in the message body. */
    readonly bodyOffset: number,
    /** The top-level field the buffer belongs to, when it belongs to one. */
    readonly column: string | undefined,
    readonly expected?: number,
    readonly actual?: number,
  ) {
    super(message);
  }
}

/** Arrow's length prefix for a buffer stored as is, uncompressed. */
const STORED = -1;
const PREFIX_BYTES = 8;

/** What each kind of buffer is called in messages. */
const LABEL: Record<BufferKind['kind'], string> = {
  bits: 'bitmap',
  fixed: 'fixed-width values',
  offsets: 'offsets',
  values: 'variable-size values',
  free: 'data',
};

/**
 * Checks, before anything is decompressed, that each compressed buffer of a batch declares no more
 * bytes than its field can hold for the batch's rows (and than its codec can expand to), so that a
 * lying length prefix fails here instead of becoming a huge allocation in the codec.
 */
export function checkCompressedBody(
  body: Uint8Array,
  batch: BatchShape,
  layout: readonly NodeLayout[],
  rows: number,
  bigEndian = false,
): void {
  if (batch.compression === null) return;
  if (codecName(batch.compression) === null) {
    throw new BodyFault(`the body is compressed with unknown codec ${batch.compression}`, 0, undefined);
  }
  new BodyBounds(body, batch, batch.compression, layout, rows, bigEndian).check();
}

/** One batch's buffers walked in body order, with each node's length bounded from the top down. */
class BodyBounds {
  readonly #lengths: number[] = [];
  readonly #lastOffsets: number[] = [];
  readonly #offsets: Array<{ index: number; width: number } | undefined> = [];

  constructor(
    readonly body: Uint8Array,
    readonly batch: BatchShape,
    readonly codec: number,
    readonly layout: readonly NodeLayout[],
    readonly rows: number,
    /** The offsets that bound variable-size values are big-endian (the length prefixes never are). */
    readonly bigEndian: boolean,
  ) {}

  check(): void {
    const { regions, variadicCounts } = this.batch;
    let next = 0;
    let views = 0;
    this.layout.forEach((node, index) => {
      for (const kind of node.buffers) this.#checkBuffer(next++, index, kind);
      const variadic = node.variadic ? (variadicCounts[views++] ?? 0) : 0;
      for (let i = 0; i < variadic; i++) this.#checkBuffer(next++, index, FREE);
    });
    // Buffers no field accounts for are decompressed all the same: only the codec's ratio bounds them.
    while (next < regions.length) this.#checkBuffer(next++, -1, FREE);
  }

  #checkBuffer(index: number, node: number, kind: BufferKind): void {
    const region = this.batch.regions[index];
    if (region === undefined) return;
    if (kind.kind === 'offsets') this.#offsets[node] = { index, width: kind.width };
    if (region.length === 0) return;
    if (region.length < PREFIX_BYTES) {
      throw this.#fault(index, node, kind, `is ${region.length} bytes, too short for its length prefix`);
    }
    const declared = this.#declared(region);
    if (declared === STORED) return;
    if (declared < 0) throw this.#fault(index, node, kind, `declares ${declared} uncompressed bytes`);
    const bound = tightest(
      node < 0 ? null : typeBound(kind, this.#length(node), () => this.#lastOffset(node)),
      codecBound(this.codec, region.length - PREFIX_BYTES),
    );
    if (declared > bound.bytes) {
      const what = `declares ${declared} uncompressed bytes, more than the ${bound.bytes} of ${bound.why}`;
      throw this.#fault(index, node, kind, what, bound.bytes, declared);
    }
  }

  #declared(region: BufferRegion): number {
    const view = new DataView(this.body.buffer, this.body.byteOffset + region.offset, PREFIX_BYTES);
    return Number(view.getBigInt64(0, true));
  }

  /** The node's length as its batch declares it, bounded by what its parent (or the batch) allows. */
  #length(node: number): number {
    const known = this.#lengths[node];
    if (known !== undefined) return known;
    const { parent, length } = this.layout[node] as NodeLayout;
    const limit = parent < 0 ? this.rows : this.#childLimit(parent, length);
    const bounded = Math.min(this.batch.nodeLengths[node] ?? 0, limit);
    this.#lengths[node] = bounded;
    return bounded;
  }

  #childLimit(parent: number, rule: ChildLength): number {
    if (rule.from === 'length') return this.#length(parent) * rule.times;
    if (rule.from === 'offsets') return this.#lastOffset(parent);
    return Number.POSITIVE_INFINITY;
  }

  /** The node's offset at its length (or its last one, if fewer): where its values end. */
  #lastOffset(node: number): number {
    const known = this.#lastOffsets[node];
    if (known !== undefined) return known;
    const offsets = this.#offsets[node];
    let last = 0;
    if (offsets !== undefined && (this.batch.regions[offsets.index]?.length ?? 0) >= PREFIX_BYTES) {
      const bytes = this.#contents(offsets.index, node);
      const count = Math.floor(bytes.byteLength / offsets.width);
      const at = Math.min(this.#length(node), count - 1) * offsets.width;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (count > 0) {
        const little = !this.bigEndian;
        last = offsets.width === 8 ? Number(view.getBigInt64(at, little)) : view.getInt32(at, little);
      }
    }
    this.#lastOffsets[node] = Math.max(0, last);
    return Math.max(0, last);
  }

  /**
   * The bytes of an offsets buffer already checked. A compressed one is decompressed here (apache-arrow
   * will do it again): bounded by its node's length, it is small next to the values it bounds.
   */
  #contents(index: number, node: number): Uint8Array {
    const region = this.batch.regions[index] as BufferRegion;
    const payload = this.body.subarray(region.offset + PREFIX_BYTES, region.offset + region.length);
    const declared = this.#declared(region);
    if (declared === STORED) return payload;
    try {
      return decompressBuffer(this.codec, payload, declared);
    } catch (error) {
      throw this.#fault(index, node, OFFSETS_32, `cannot be decompressed (${(error as Error).message})`);
    }
  }

  #fault(index: number, node: number, kind: BufferKind, what: string, expected?: number, actual?: number) {
    const region = this.batch.regions[index] as BufferRegion;
    const field = this.layout[node];
    const where = field ? `column "${field.column}"${this.#path(node)}, ` : '';
    const message = `${where}compressed ${LABEL[kind.kind]} buffer ${index} ${what}`;
    return new BodyFault(message, region.offset, field?.column, expected, actual);
  }

  /** ` (field a.b.c)` for a nested node; empty for a top-level one. */
  #path(node: number): string {
    const names: string[] = [];
    for (let at = node; at >= 0; at = (this.layout[at] as NodeLayout).parent) {
      names.unshift((this.layout[at] as NodeLayout).name);
    }
    return names.length > 1 ? ` (field ${names.join('.')})` : '';
  }
}
