import type { Data } from 'apache-arrow';
import { checkBatch } from '../../columns/check-batch.js';
import { type ColumnSlice, columnSlice } from '../../columns/column-data.js';
import type { ColumnEncoder } from '../../columns/encoders/column-encoder.js';
import { createEncoder, encodesAlone } from '../../columns/encoders/create-encoder.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import type { DecodedBatch } from '../../ipc/decode.js';
import { type DataPacker, moveWith } from './pack-data.js';
import type { WireBatch, WireColumn } from './protocol.js';
import type { ScratchBuffers } from './scratch-buffers.js';

/** A batch ready to post: what crosses, and the buffers that move with it. */
export interface EncodedBatch {
  batch: WireBatch;
  transfer: ArrayBuffer[];
  /** The worker's own body stayed here (its bytes copied into the batch's buffer): free to reuse at once. */
  bodyKept: boolean;
}

/** A batch's message body on the worker: sent to it, or read by it into a buffer of its own (`own`). */
export interface WorkerBody {
  bytes: Uint8Array;
  own: boolean;
}

/**
 * Encodes a decoded batch on a decode worker: columns that encode alone become their GPU words (the
 * Arrow bytes themselves where they already are, else one scratch buffer for the batch, handed back
 * once uploaded, as is a body the worker read itself); the others go back as Arrow data, for the
 * loader thread to encode in order. Checked first, as the loader would.
 */
export function encodeBatch(
  decoded: DecodedBatch,
  body: WorkerBody,
  plans: readonly ColumnPlan[],
  url: string,
  packer: DataPacker,
  scratch: ScratchBuffers,
): EncodedBatch {
  const { batch, index, byteOffset, endOffset } = decoded;
  checkBatch(batch, plans, { url, batch: index, byteOffset });
  const started = performance.now();
  const rows = batch.numRows;
  const slices = plans.map((plan) => columnSlice(batch, plan));
  const encoders = plans.map((plan, i) => {
    const type = (slices[i] as ColumnSlice).data.type;
    return encodesAlone(plan, type) ? createEncoder(plan, type) : null;
  });
  const raw = encoders.map((e, i) => e?.rawBytes((slices[i] as ColumnSlice).data, 0, rows) ?? null);
  // A body the worker read stays here when every column goes up as words: its raw words and bitmaps
  // are copied into the batch's buffer, so the loader takes in only the GPU bytes.
  const inline = body.own && encoders.every((e) => e !== null);
  const encodedWords = encoders.reduce((n, e, i) => n + (e && !raw[i] ? e.wordsFor(rows) : 0), 0);
  const inlineWords = inline ? wordsOf([...raw, ...slices.map((slice) => slice.bitmap)]) : 0;
  const out = new BatchWords(encodedWords + inlineWords, scratch, inline);
  if (!inline) moveWith(body.bytes, out.transfer);
  const columns = slices.map((slice, i): WireColumn => {
    const encoder = encoders[i];
    const { bitOffset, nullCount } = slice;
    const bitmap = slice.bitmap ? out.cross(slice.bitmap) : null;
    if (!encoder)
      return { words: null, data: packer.pack(slice.data, out.transfer), bitmap, bitOffset, nullCount };
    const rawWords = raw[i];
    const words = rawWords ? out.cross(rawWords) : out.encode(encoder, slice.data, rows);
    return { words, data: null, bitmap, bitOffset, nullCount };
  });
  const encodeMs = performance.now() - started;
  const sent = inline ? new Uint8Array(0) : body.bytes;
  const wire = {
    ...{ index, numRows: rows, byteOffset, endOffset, columns, body: sent, ownBody: body.own && !inline },
    ...{ scratch: out.words > 0 ? out.buffer : null, decodeMs: 0, encodeMs },
  };
  return { batch: wire, transfer: [...out.transfer], bodyKept: inline };
}

/** A batch's buffer of words, filled front to back, and the buffers that cross with the batch. */
class BatchWords {
  readonly transfer = new Set<ArrayBuffer>();
  readonly #out: Uint32Array;
  readonly #inline: boolean;
  #at = 0;

  /** `inline`: bytes that cross are copied in here, not moved. */
  constructor(
    readonly words: number,
    scratch: ScratchBuffers,
    inline: boolean,
  ) {
    this.#out = new Uint32Array(words > 0 ? scratch.acquire(words * 4) : new ArrayBuffer(0), 0, words);
    this.#out.fill(0); // a reused buffer holds an earlier batch's words; encoders may expect zeros
    this.transfer.add(this.#out.buffer as ArrayBuffer);
    this.#inline = inline;
  }

  get buffer(): ArrayBuffer {
    return this.#out.buffer as ArrayBuffer;
  }

  /** `bytes` as they cross: copied into the next words (inline), else moved with the message. */
  cross(bytes: Uint8Array): Uint8Array {
    if (!this.#inline) {
      moveWith(bytes, this.transfer);
      return bytes;
    }
    const copy = new Uint8Array(this.#out.buffer, this.#at * 4, bytes.byteLength);
    copy.set(bytes);
    this.#at += Math.ceil(bytes.byteLength / 4);
    return copy;
  }

  /** The words of `rows` rows of `data`, encoded into the next words. */
  encode(encoder: ColumnEncoder, data: Data, rows: number): Uint8Array {
    const n = encoder.wordsFor(rows);
    encoder.encode(data, 0, rows, this.#out.subarray(this.#at, this.#at + n));
    const words = new Uint8Array(this.#out.buffer, this.#at * 4, n * 4);
    this.#at += n;
    return words;
  }
}

/** 32-bit words that `views` take, each from a word boundary. */
function wordsOf(views: readonly (Uint8Array | null)[]): number {
  return views.reduce((n, view) => n + (view ? Math.ceil(view.byteLength / 4) : 0), 0);
}
